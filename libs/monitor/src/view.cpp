#include "mkt/monitor/view.h"

#include <algorithm>

namespace mkt::monitor {
namespace {

constexpr double segment_bytes = 1448;  // a full TCP segment on Ethernet
constexpr double ns_per_s = 1e9;

bool has_labels(const metrics::Series& s, const metrics::Labels& labels) {
  return std::all_of(labels.begin(), labels.end(),
                     [&](const auto& label) { return s.label(label.first) == label.second; });
}

}  // namespace

void Ring::push(Point point) {
  points_.push_back(point);
  while (points_.size() > capacity_) points_.pop_front();
}

double NodeView::value(std::string_view name, const metrics::Labels& labels,
                       double fallback) const {
  for (const auto& s : series) {
    if (s.name == name && has_labels(s, labels)) return s.value;
  }
  return fallback;
}

bool watched(const scenario::Node& node) {
  if (node.role == scenario::Role::monitor) return false;
  return !(node.agent && node.agent->strategy == "external");
}

MarketView::MarketView(const scenario::Scenario& scenario, std::size_t history_points)
    : scenario_(scenario), history_points_(history_points) {
  for (const scenario::Node& node : scenario.nodes) {
    if (!watched(node)) continue;
    nodes_.push_back({.id = node.id,
                      .role = std::string(scenario::to_string(node.role)),
                      .seen = false,
                      .up = false,
                      .error = "not scraped yet",
                      .scraped_ns = 0,
                      .series = {}});
    if (node.role == scenario::Role::agent) agents_.insert(node.id);
    if (node.role != scenario::Role::exchange) continue;
    for (const scenario::Symbol* symbol : scenario.symbols_of(node)) {
      quotes_.push_back({.venue = node.id,
                         .symbol = symbol->name,
                         .bid_ticks = 0,
                         .ask_ticks = 0,
                         .last_ticks = 0,
                         .changed_ns = 0,
                         .tick_size = std::stod(symbol->tick_size.to_string())});
    }
  }
}

const NodeView* MarketView::node(const std::string& id) const {
  for (const auto& n : nodes_) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

void MarketView::record(const std::string& key, std::int64_t now_ns, double value) {
  auto it = history_.find(key);
  if (it == history_.end()) it = history_.emplace(key, Ring(history_points_)).first;
  it->second.push({now_ns, value});
}

void MarketView::record_rate(const std::string& key, std::int64_t now_ns, double total) {
  auto [it, first] = counters_.try_emplace(key, Point{now_ns, total});
  if (first) return;
  const Point last = it->second;
  it->second = {now_ns, total};
  if (now_ns <= last.t_ns || total < last.value) return;  // a restart resets its counters
  record(key, now_ns, (total - last.value) * ns_per_s / static_cast<double>(now_ns - last.t_ns));
}

void MarketView::scraped(const std::string& id, std::int64_t now_ns,
                         std::expected<std::vector<metrics::Series>, std::string> scrape) {
  auto it =
      std::find_if(nodes_.begin(), nodes_.end(), [&](const NodeView& n) { return n.id == id; });
  if (it == nodes_.end()) return;
  NodeView& node = *it;
  node.scraped_ns = now_ns;
  if (!scrape) {
    node.up = false;
    node.error = std::move(scrape.error());
    return;
  }
  node.seen = node.up = true;
  node.error.clear();
  node.series = std::move(*scrape);
  if (node.role == "exchange") exchange_scraped(node, now_ns);
  if (node.role == "agent") agent_scraped(node, now_ns);
  if (node.role == "validator") {
    record("consensus/" + id + "/term", now_ns, node.value("raft_term"));
    record("consensus/" + id + "/commit_index", now_ns, node.value("raft_commit_index"));
  }
}

void MarketView::exchange_scraped(const NodeView& node, std::int64_t now_ns) {
  const std::string& venue = node.id;
  for (QuoteView& q : quotes_) {
    if (q.venue != venue) continue;
    const auto bid = static_cast<std::int64_t>(
        node.value("exchange_best_price_ticks", {{"symbol", q.symbol}, {"side", "buy"}}));
    const auto ask = static_cast<std::int64_t>(
        node.value("exchange_best_price_ticks", {{"symbol", q.symbol}, {"side", "sell"}}));
    const auto last =
        static_cast<std::int64_t>(node.value("exchange_last_price_ticks", {{"symbol", q.symbol}}));
    if (q.changed_ns == 0 || bid != q.bid_ticks || ask != q.ask_ticks || last != q.last_ticks) {
      q.changed_ns = now_ns;
    }
    q.bid_ticks = bid;
    q.ask_ticks = ask;
    q.last_ticks = last;
    const std::string prefix = "price/" + venue + "/" + q.symbol + "/";
    if (bid > 0) record(prefix + "bid", now_ns, static_cast<double>(bid));
    if (ask > 0) record(prefix + "ask", now_ns, static_cast<double>(ask));
    if (last > 0) record(prefix + "last", now_ns, static_cast<double>(last));
    record_rate("rate/" + venue + "/" + q.symbol + "/trades", now_ns,
                node.value("exchange_trades_total", {{"symbol", q.symbol}}));
  }
  record_rate("rate/" + venue + "/orders", now_ns,
              node.value("exchange_commands_total", {{"kind", "submit"}}));
  record("settlement/" + venue + "/lag_ms", now_ns,
         node.value("exchange_settlement_lag_seconds") * 1e3);
}

void MarketView::agent_scraped(const NodeView& node, std::int64_t now_ns) {
  const std::string prefix = "agent/" + node.id + "/";
  record(prefix + "pnl_cents", now_ns, node.value("agent_pnl_cents"));
  double position = 0;
  for (const auto& s : node.series) {
    if (s.name == "agent_position_lots") position += s.value;
  }
  record(prefix + "position_lots", now_ns, position);
  record(prefix + "fills", now_ns, node.value("agent_fills_total"));
  record_rate(prefix + "orders", now_ns, node.value("agent_orders_sent_total"));
}

void MarketView::event(MarketEvent e) {
  constexpr std::size_t events_max = 1000;
  e.seq = ++events_seen_;
  if (e.kind == "trade") {
    const auto price = static_cast<double>(e.price_ticks);
    if (agents_.contains(e.buyer))
      record("fill/" + e.buyer + "/" + e.symbol + "/buy", e.t_ns, price);
    if (agents_.contains(e.seller)) {
      record("fill/" + e.seller + "/" + e.symbol + "/sell", e.t_ns, price);
    }
  }
  events_.push_back(std::move(e));
  while (events_.size() > events_max) events_.pop_front();
}

void MarketView::links(std::int64_t now_ns,
                       std::expected<std::vector<LinkReading>, std::string> readings) {
  if (!readings) {
    links_error_ = std::move(readings.error());
    return;  // the last known state stays, its counters too
  }
  links_error_.clear();
  std::vector<LinkView> next;
  next.reserve(readings->size());
  for (LinkReading& r : *readings) {
    LinkView view{.reading = std::move(r),
                  .carried_traffic = false,
                  .delay_mean_us = 0,
                  .delay_p99_us = 0,
                  .loss_ppm = 0,
                  .kbps = 0};
    const LinkReading& now = view.reading;
    const auto before = std::find_if(links_.begin(), links_.end(), [&](const LinkView& l) {
      return l.reading.from == now.from && l.reading.to == now.to;
    });
    // Counters that went back (the proxy restarted) start a new interval.
    if (before != links_.end() && now.delay_count >= before->reading.delay_count &&
        now.bytes >= before->reading.bytes &&
        now.delay_counts.size() == before->reading.delay_counts.size()) {
      const LinkReading& old = before->reading;
      const std::uint64_t chunks = now.delay_count - old.delay_count;
      const double bytes = static_cast<double>(now.bytes - old.bytes);
      const double lost =
          static_cast<double>(now.segments_lost - std::min(now.segments_lost, old.segments_lost));
      view.carried_traffic = chunks > 0 || bytes > 0 || now.held_bytes > 0;
      if (chunks > 0) {
        view.delay_mean_us =
            static_cast<double>(now.delay_sum_us - old.delay_sum_us) / static_cast<double>(chunks);
        std::vector<std::uint64_t> delta(now.delay_counts.size());
        for (std::size_t i = 0; i < delta.size(); ++i) {
          delta[i] = now.delay_counts[i] - std::min(now.delay_counts[i], old.delay_counts[i]);
        }
        view.delay_p99_us =
            static_cast<double>(metrics::quantile_bound(now.delay_bounds_us, delta, 0.99));
      } else {
        view.delay_mean_us = before->delay_mean_us;  // idle: the last figure stands
        view.delay_p99_us = before->delay_p99_us;
      }
      const double segments = bytes / segment_bytes + lost;
      view.loss_ppm = segments > 0 ? lost / segments * 1e6 : 0;
      const auto seconds = static_cast<double>(now_ns - links_read_ns_) / ns_per_s;
      view.kbps = seconds > 0 ? bytes * 8 / 1000 / seconds : 0;
    }
    const std::string prefix = "link/" + now.from + ">" + now.to + "/";
    // Only links in use get histories (a big market has hundreds of idle pairs).
    if (view.carried_traffic || history_.contains(prefix + "kbps")) {
      if (view.carried_traffic) {
        record(prefix + "delay_mean_us", now_ns, view.delay_mean_us);
        record(prefix + "delay_p99_us", now_ns, view.delay_p99_us);
      }
      record(prefix + "loss_ppm", now_ns, view.loss_ppm);
      record(prefix + "kbps", now_ns, view.kbps);
    }
    next.push_back(std::move(view));
  }
  links_ = std::move(next);
  links_read_ns_ = now_ns;
}

// A validator whose calls to a peer fail while that peer answers the monitor: the path between
// them is cut, whether or not the proxy knows it (a paused proxy, a cut below it).
void MarketView::mark_unreachable(Observation& o) const {
  for (const NodeView& n : nodes_) {
    if (!n.up || n.role != "validator") continue;
    for (const auto& s : n.series) {
      if (s.name != "raft_peer_reachable" || s.value != 0) continue;
      const std::string peer(s.label("peer"));
      const NodeView* target = node(peer);
      if (target == nullptr || !target->up) continue;  // a peer that is down is node_down's
      auto link = std::find_if(o.links.begin(), o.links.end(), [&](const LinkObservation& l) {
        return l.from == n.id && l.to == peer;
      });
      if (link == o.links.end()) {
        link = o.links.insert(o.links.end(), LinkObservation{});
        link->from = n.id;
        link->to = peer;
      }
      link->unreachable = true;
    }
  }
}

Observation MarketView::observation() const {
  Observation o;
  bool trading = false;
  for (const NodeView& n : nodes_) {
    o.nodes.push_back({.id = n.id, .role = n.role, .up = n.up, .error = n.error});
    if (!n.up) continue;
    if (n.role == "validator") {
      o.validators.push_back(
          {.id = n.id,
           .term = static_cast<std::int64_t>(n.value("raft_term")),
           .leads = n.value("raft_is_leader") == 1,
           .commit_index = static_cast<std::int64_t>(n.value("raft_commit_index"))});
    } else if (n.role == "exchange") {
      o.exchanges.push_back(
          {.id = n.id, .settlement_lag_ms = n.value("exchange_settlement_lag_seconds") * 1e3});
    } else if (n.role == "agent") {
      for (const auto& s : n.series) {
        if (s.name == "agent_market_data_connected") {
          o.feeds.push_back(
              {.agent = n.id, .venue = std::string(s.label("venue")), .connected = s.value == 1});
        }
      }
      const auto orders = history_.find("agent/" + n.id + "/orders");
      if (orders != history_.end() && !orders->second.points().empty() &&
          orders->second.points().back().value > 0) {
        trading = true;
      }
    }
  }
  o.agents_trading = trading;
  for (const LinkView& l : links_) {
    o.links.push_back({.from = l.reading.from,
                       .to = l.reading.to,
                       .carried_traffic = l.carried_traffic,
                       .delay_p99_us = l.delay_p99_us,
                       .loss_ppm = l.loss_ppm,
                       .bandwidth_cap_kbps = l.reading.bandwidth_kbps,
                       .partitioned = l.reading.partitioned,
                       .unreachable = false});
  }
  mark_unreachable(o);
  for (const QuoteView& q : quotes_) {
    QuoteObservation quote{.venue = q.venue,
                           .symbol = q.symbol,
                           .mid_ticks = std::nullopt,
                           .changed_ns = q.changed_ns,
                           .tick_size = q.tick_size};
    if (q.bid_ticks > 0 && q.ask_ticks > 0) {
      quote.mid_ticks = static_cast<double>(q.bid_ticks + q.ask_ticks) / 2;
    }
    o.quotes.push_back(std::move(quote));
  }
  return o;
}

}  // namespace mkt::monitor
