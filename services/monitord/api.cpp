#include "api.h"

#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <ranges>

namespace mkt::monitord {
namespace {

namespace json = boost::json;

runtime::HttpResponse json_response(int status, const json::value& value) {
  return {.status = status, .content_type = "application/json", .body = json::serialize(value)};
}

runtime::HttpResponse error(int status, const std::string& message) {
  return json_response(status, json::object{{"error", message}});
}

// The query parameter's value, decoded (%XX, and '+' for a space), or none.
std::optional<std::string> query_value(const std::string& target, const std::string& key) {
  const auto q = target.find('?');
  if (q == std::string::npos) return std::nullopt;
  std::string_view rest(target);
  rest.remove_prefix(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) != key) continue;
    std::string out;
    const std::string_view raw = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '+') {
        out += ' ';
      } else if (unsigned byte = 0;
                 raw[i] == '%' && i + 2 < raw.size() &&
                 std::from_chars(raw.data() + i + 1, raw.data() + i + 3, byte, 16).ptr ==
                     raw.data() + i + 3) {
        out += static_cast<char>(byte);
        i += 2;
      } else {
        out += raw[i];
      }
    }
    return out;
  }
  return std::nullopt;
}

// The page draws links from the state: their histories (one per directed pair, hundreds in a big
// market) stay with /api/history.
bool for_the_page(const std::string& series) {
  return !series.starts_with("link/");
}

json::object alert_json(const monitor::Alert& a) {
  return {{"id", a.id},
          {"rule", a.rule},
          {"subject", a.subject},
          {"severity", std::string(monitor::to_string(a.severity))},
          {"started_ns", a.started_ns},
          {"raised_ns", a.raised_ns},
          {"ended_ns", a.ended_ns},
          {"value", a.value},
          {"peak", a.peak},
          {"threshold", a.threshold},
          {"count", a.count},
          {"evidence", a.evidence}};
}

// Any range of alerts: the active ones (a vector), the resolved ones kept (a deque).
template <class Alerts>
json::array alerts_json(const Alerts& alerts) {
  json::array out;
  for (const auto& a : alerts) out.push_back(alert_json(a));
  return out;
}

// The last `count` events (all with 0).
json::array events_json(const Collector& c, std::size_t count) {
  const auto& events = c.view().events();
  const std::size_t from = count != 0 && events.size() > count ? events.size() - count : 0;
  json::array out;
  for (std::size_t i = from; i < events.size(); ++i) {
    const auto& e = events[i];
    json::object o{
        {"seq", e.seq}, {"t_ns", e.t_ns}, {"node", e.node}, {"kind", e.kind}, {"text", e.text}};
    if (e.kind == "trade") {
      o["symbol"] = e.symbol;
      o["buyer"] = e.buyer;
      o["seller"] = e.seller;
      o["price_ticks"] = e.price_ticks;
      o["quantity_lots"] = e.quantity_lots;
    }
    out.push_back(std::move(o));
  }
  return out;
}

json::object agent_json(const monitor::NodeView& n, const scenario::Node* spec) {
  json::object positions, reputation;
  std::string adaptive;
  for (const auto& s : n.series) {
    if (s.name == "agent_position_lots") positions[std::string(s.label("symbol"))] = s.value;
    if (s.name == "agent_peer_reputation_ppm")
      reputation[std::string(s.label("origin"))] = s.value / 1e6;
    if (s.name == "agent_adaptive_current" && s.value == 1) adaptive = s.label("strategy");
  }
  return {{"id", n.id},
          {"strategy", spec != nullptr && spec->agent ? spec->agent->strategy : ""},
          {"site", spec != nullptr ? spec->site : ""},
          {"up", n.up},
          {"adaptive_current", adaptive},
          {"pnl_cents", n.value("agent_pnl_cents")},
          {"cash_cents", n.value("agent_cash_cents")},
          {"positions", std::move(positions)},
          {"orders_sent", n.value("agent_orders_sent_total")},
          {"fills", n.value("agent_fills_total")},
          {"signals_sent", n.value("agent_signals_originated_total")},
          {"signals_forwarded", n.value("agent_signals_forwarded_total")},
          {"reputation", std::move(reputation)}};
}

json::object state_json(const Collector& c, const scenario::Scenario& scenario) {
  const monitor::MarketView& view = c.view();
  json::array nodes, links, quotes, validators, agents;
  for (const auto& n : view.nodes()) {
    const scenario::Node* spec = scenario.find_node(n.id);
    nodes.push_back(json::object{{"id", n.id},
                                 {"role", n.role},
                                 {"site", spec != nullptr ? spec->site : ""},
                                 {"up", n.up},
                                 {"seen", n.seen},
                                 {"error", n.error},
                                 {"scraped_ns", n.scraped_ns}});
    if (!n.seen) continue;
    if (n.role == "validator") {
      validators.push_back(json::object{{"id", n.id},
                                        {"up", n.up},
                                        {"term", n.value("raft_term")},
                                        {"leads", n.value("raft_is_leader") == 1},
                                        {"commit_index", n.value("raft_commit_index")},
                                        {"leader_changes", n.value("raft_leader_changes_total")}});
    } else if (n.role == "agent") {
      agents.push_back(agent_json(n, spec));
    }
  }
  for (const auto& l : view.link_views()) {
    links.push_back(json::object{{"from", l.reading.from},
                                 {"to", l.reading.to},
                                 {"partitioned", l.reading.partitioned},
                                 {"latency_us", l.reading.latency_us},
                                 {"bandwidth_kbps", l.reading.bandwidth_kbps},
                                 {"connections", l.reading.connections_open},
                                 {"bytes", l.reading.bytes},
                                 {"carried_traffic", l.carried_traffic},
                                 {"delay_mean_us", l.delay_mean_us},
                                 {"delay_p99_us", l.delay_p99_us},
                                 {"loss_ppm", l.loss_ppm},
                                 {"kbps", l.kbps}});
  }
  json::array unreachable;  // cut where a node reports it (MarketView::mark_unreachable)
  for (const auto& l : view.observation().links) {
    if (l.unreachable) unreachable.push_back(json::object{{"from", l.from}, {"to", l.to}});
  }
  for (const auto& q : view.quotes()) {
    const monitor::NodeView* venue = view.node(q.venue);
    quotes.push_back(json::object{
        {"venue", q.venue},
        {"symbol", q.symbol},
        {"bid_ticks", q.bid_ticks},
        {"ask_ticks", q.ask_ticks},
        {"last_ticks", q.last_ticks},
        {"changed_ns", q.changed_ns},
        {"settlement_lag_ms",
         venue != nullptr ? venue->value("exchange_settlement_lag_seconds") * 1e3 : 0.0}});
  }
  json::object symbols;  // each symbol's tick size, to show prices
  for (const auto& [name, market] : scenario.markets) {
    for (const auto& symbol : market.symbols) symbols[symbol.name] = symbol.tick_size.to_string();
  }
  // clang-format off
  return {{"at_ns", c.last_round_ns()},
          {"rounds", c.rounds()},
          {"scenario", scenario.name},
          {"interval_ms", scenario.monitoring.scrape_interval_ms},
          {"symbols", std::move(symbols)},
          {"nodes", std::move(nodes)},
          {"links", std::move(links)},
          {"links_error", view.links_error()},
          {"unreachable", std::move(unreachable)},
          {"quotes", std::move(quotes)},
          {"validators", std::move(validators)},
          {"agents", std::move(agents)},
          {"alerts", alerts_json(c.rules().book().active())}};
  // clang-format on
}

runtime::HttpResponse history(const Collector& c, const std::string& target) {
  const auto& all = c.view().history();
  const auto series = query_value(target, "series");
  if (!series) {
    json::array names;
    for (const auto& [name, ring] : all) names.push_back(json::string(name));
    return json_response(200, json::object{{"series", std::move(names)}});
  }
  const auto it = all.find(*series);
  if (it == all.end()) return error(404, "no series '" + *series + "'");
  const std::string format = query_value(target, "format").value_or("json");
  if (format == "csv") {
    std::string body = "t_ns,value\n";
    for (const auto& p : it->second.points()) {
      body += std::to_string(p.t_ns) + "," + json::serialize(json::value(p.value)) + "\n";
    }
    return {.status = 200, .content_type = "text/csv", .body = std::move(body)};
  }
  if (format != "json") return error(400, "format is json or csv, not '" + format + "'");
  json::array points;
  for (const auto& p : it->second.points()) points.push_back(json::array{p.t_ns, p.value});
  return json_response(200, json::object{{"series", *series}, {"points", std::move(points)}});
}

}  // namespace

std::string hello_message(const Collector& collector, const scenario::Scenario& scenario,
                          std::size_t points) {
  json::object history;
  for (const auto& [name, ring] : collector.view().history()) {
    if (!for_the_page(name)) continue;
    json::array series;
    const auto& all = ring.points();
    const std::size_t from = all.size() > points ? all.size() - points : 0;
    for (std::size_t i = from; i < all.size(); ++i) {
      series.push_back(json::array{all[i].t_ns, all[i].value});
    }
    history[name] = std::move(series);
  }
  const auto& kept = collector.rules().book().history();
  return json::serialize(json::object{{"type", "hello"},
                                      {"state", state_json(collector, scenario)},
                                      {"history", std::move(history)},
                                      {"events", events_json(collector, 50)},
                                      {"resolved", alerts_json(kept)}});
}

std::string round_message(const Collector& collector, const scenario::Scenario& scenario,
                          std::int64_t& since_ns) {
  json::object points;
  std::int64_t newest = since_ns;
  for (const auto& [name, ring] : collector.view().history()) {
    if (!for_the_page(name)) continue;
    json::array added;
    for (auto it = ring.points().rbegin(); it != ring.points().rend() && it->t_ns > since_ns;
         ++it) {
      added.insert(added.begin(), json::array{it->t_ns, it->value});
      newest = std::max(newest, it->t_ns);
    }
    if (!added.empty()) points[name] = std::move(added);
  }
  since_ns = newest;
  // The last few resolved: the page keeps the ones it has not seen (by id).
  const auto& kept = collector.rules().book().history();
  const std::size_t from = kept.size() > 20 ? kept.size() - 20 : 0;
  return json::serialize(json::object{
      {"type", "round"},
      {"state", state_json(collector, scenario)},
      {"points", std::move(points)},
      {"events", events_json(collector, 50)},
      {"resolved", alerts_json(std::ranges::subrange(
                       kept.begin() + static_cast<std::ptrdiff_t>(from), kept.end()))}});
}

std::optional<runtime::HttpResponse> serve_api(const Collector& collector,
                                               const scenario::Scenario& scenario,
                                               const runtime::HttpRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (!path.starts_with("/api/")) return std::nullopt;
  if (request.method != "GET") return error(405, "the API is read-only: use GET");
  if (path == "/api/state") return json_response(200, state_json(collector, scenario));
  if (path == "/api/alerts") {
    const auto& kept = collector.rules().book().history();
    return json_response(200,
                         json::object{{"active", alerts_json(collector.rules().book().active())},
                                      {"resolved", alerts_json(kept)}});
  }
  if (path == "/api/history") return history(collector, request.target);
  if (path == "/api/events") {
    return json_response(200, json::object{{"events", events_json(collector, 0)}});
  }
  return std::nullopt;
}

}  // namespace mkt::monitord
