#include "collector.h"

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <map>
#include <utility>

#include "market/netcontrol/v1/netcontrol.pb.h"
#include "market/telemetry/v1/telemetry.grpc.pb.h"
#include "mkt/core/enum_table.h"
#include "mkt/metrics/text.h"
#include "mkt/monitor/config.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/client_stream.h"
#include "mkt/runtime/http_client.h"

namespace mkt::monitord {
namespace {

namespace ncpb = market::netcontrol::v1;
using namespace std::chrono_literals;

// The proxy's two JSON views joined into one reading per directed link.
std::expected<std::vector<monitor::LinkReading>, std::string> link_readings(
    const std::string& links_json, const std::string& stats_json) {
  ncpb::ListLinksResponse links;
  ncpb::GetLinkStatsResponse stats;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(links_json, &links, options).ok()) {
    return std::unexpected(std::string("the proxy's /v1/links is not a link list"));
  }
  if (!google::protobuf::util::JsonStringToMessage(stats_json, &stats, options).ok()) {
    return std::unexpected(std::string("the proxy's /v1/stats is not a stats list"));
  }
  std::map<std::pair<std::string, std::string>, const ncpb::LinkStats*> by_pair;
  for (const auto& s : stats.links()) by_pair[{s.source(), s.destination()}] = &s;
  std::vector<monitor::LinkReading> out;
  for (const auto& link : links.links()) {
    const auto& p = link.params();
    monitor::LinkReading r{.from = link.source(),
                           .to = link.destination(),
                           .partitioned = link.partitioned(),
                           .latency_us = p.latency_us(),
                           .bandwidth_kbps = p.bandwidth_bps() / 1000,
                           .loss_ppm = p.loss().has_gilbert_elliott()
                                           ? p.loss().gilbert_elliott().loss_good_ppm()
                                           : p.loss().bernoulli_ppm(),
                           .connections_open = 0,
                           .bytes = 0,
                           .segments_lost = 0,
                           .held_bytes = 0,
                           .delay_bounds_us = {},
                           .delay_counts = {},
                           .delay_count = 0,
                           .delay_sum_us = 0};
    if (const auto it = by_pair.find({link.source(), link.destination()}); it != by_pair.end()) {
      const ncpb::LinkStats& s = *it->second;
      r.connections_open = s.connections_open();
      r.bytes = s.bytes_forward();
      r.segments_lost = s.segments_lost();
      r.held_bytes = s.partition_held_bytes();
      r.delay_bounds_us.assign(s.applied_delay().bounds_us().begin(),
                               s.applied_delay().bounds_us().end());
      r.delay_counts.assign(s.applied_delay().counts().begin(), s.applied_delay().counts().end());
      r.delay_count = s.applied_delay().count();
      r.delay_sum_us = s.applied_delay().sum_us();
    }
    out.push_back(std::move(r));
  }
  return out;
}

using WireAlert = market::telemetry::v1::Alert;
constexpr auto severities = core::enum_table<monitor::Severity, WireAlert::Severity>({
    {monitor::Severity::info, WireAlert::SEVERITY_INFO},
    {monitor::Severity::warning, WireAlert::SEVERITY_WARNING},
    {monitor::Severity::error, WireAlert::SEVERITY_ERROR},
    {monitor::Severity::critical, WireAlert::SEVERITY_CRITICAL},
});

// The kind of event each role's stream is asked for.
std::string kind_of(const std::string& role) {
  if (role == "exchange") return "trade";
  if (role == "validator") return "leader_change";
  if (role == "proxy") return "link_change";
  if (role == "agent") return "strategy_switch";
  return {};
}

}  // namespace

struct Collector::Feed {
  explicit Feed(runtime::Strand& strand) : retry(strand) {}
  std::string id;
  std::string kind;
  std::string address;
  std::string next_address;  // where it moved: used once the current call has ended
  std::unique_ptr<market::telemetry::v1::Telemetry::Stub> stub;
  std::shared_ptr<runtime::ClientCall<market::telemetry::v1::StreamEventsRequest>> call;
  boost::asio::steady_timer retry;
};

Collector::~Collector() = default;

Collector::Collector(runtime::Strand strand, const scenario::Scenario& scenario,
                     CollectorOptions options, metrics::Registry& registry,
                     runtime::TelemetryService* telemetry, const runtime::Clock& clock)
    : strand_(strand),
      options_(std::move(options)),
      clock_(clock),
      telemetry_(telemetry),
      view_(scenario, static_cast<std::size_t>(scenario.monitoring.history_points)),
      rules_(monitor::rule_params(scenario), monitor::hysteresis(scenario.monitoring),
             static_cast<std::size_t>(scenario.monitoring.alerts_kept)),
      timer_(strand),
      // A scrape that takes longer than most of the interval is a failed one.
      timeout_(std::max<std::chrono::milliseconds>(options_.interval * 8 / 10, 80ms)),
      metrics_{
          .rounds = registry.counter("monitor_rounds_total", "Collection rounds started."),
          .scrape_failures = registry.counter("monitor_scrape_failures_total",
                                              "Scrapes that failed (the node is shown down)."),
          .alerts_active = registry.gauge("monitor_alerts_active", "Alerts raised, not resolved."),
          .round_seconds = registry.histogram(
              "monitor_round_seconds", "From a round's start to its last answer.",
              metrics::exponential_bounds(100'000, 2, 10'000'000'000), 1e9)} {}

void Collector::start() {
  round();
}

void Collector::stop() {
  stopped_ = true;
  timer_.cancel();
  for (auto& [id, feed] : feeds_) {
    feed->retry.cancel();
    if (feed->call) feed->call->cancel();
  }
}

void Collector::follow(const Target& target) {
  const std::string kind = kind_of(target.role);
  if (kind.empty() || target.grpc_port == 0) return;
  const std::string address = target.host + ":" + std::to_string(target.grpc_port);
  auto& feed = feeds_[target.id];
  if (!feed) {
    feed = std::make_unique<Feed>(strand_);
    feed->id = target.id;
    feed->kind = kind;
  } else if (feed->address == address || feed->next_address == address) {
    return;
  }
  // A feed lives as long as the collector (its calls' callbacks hold it); one that moved
  // changes its stub once its call has ended.
  feed->next_address = address;
  if (feed->call) {
    feed->call->cancel();
  } else {
    feed->retry.cancel();
    subscribe(*feed);
  }
}

void Collector::subscribe(Feed& f) {
  if (stopped_ || f.call) return;
  if (!f.next_address.empty()) {
    // Straight to the process: no proxy on the management path.
    f.address = std::exchange(f.next_address, std::string());
    f.stub = market::telemetry::v1::Telemetry::NewStub(
        runtime::make_channel(f.address, {.node_id = "monitor",
                                          .proxy_address = "",
                                          .max_receive_message_bytes = 4 << 20,
                                          .reconnect_backoff_max_ms = 1000,
                                          .tls = options_.tls,
                                          .peer = f.id}));
  }
  market::telemetry::v1::StreamEventsRequest request;
  request.add_kinds(f.kind);
  Feed* feed = &f;
  f.call = runtime::open_reader<market::telemetry::v1::StreamEventsRequest,
                                market::telemetry::v1::Event>(
      strand_, std::move(request), [](grpc::ClientContext&) {},
      [feed](auto* context, auto* req, auto* reactor) {
        feed->stub->async()->StreamEvents(context, req, reactor);
      },
      {.on_read = [this, feed](const market::telemetry::v1::Event& e) { on_event(feed->id, e); },
       .on_done =
           [this, feed](const grpc::Status&) {
             feed->call.reset();
             if (stopped_) return;
             feed->retry.expires_after(1s);
             feed->retry.async_wait([this, feed](const boost::system::error_code& ec) {
               if (!ec) subscribe(*feed);
             });
           }});
}

void Collector::on_event(const std::string& node, const market::telemetry::v1::Event& event) {
  monitor::MarketEvent e{.seq = 0,
                         .t_ns = clock_.wall_ns(),
                         .node = node,
                         .kind = "",
                         .text = "",
                         .symbol = "",
                         .buyer = "",
                         .seller = "",
                         .price_ticks = 0,
                         .quantity_lots = 0};
  if (event.has_trade()) {
    const auto& t = event.trade();
    e.kind = "trade";
    e.symbol = t.symbol();
    e.buyer = t.buyer_account();
    e.seller = t.seller_account();
    e.price_ticks = t.price_ticks();
    e.quantity_lots = t.quantity_lots();
    e.text = t.buyer_account() + " bought " + std::to_string(t.quantity_lots()) + " " + t.symbol() +
             " from " + t.seller_account();
  } else if (event.has_leader_change()) {
    const auto& l = event.leader_change();
    e.kind = "leader_change";
    e.text = "term " + std::to_string(l.term()) + ": " +
             (l.leader_id().empty() ? "no leader known" : l.leader_id() + " leads");
  } else if (event.has_strategy_switch()) {
    const auto& s = event.strategy_switch();
    e.kind = "strategy_switch";
    e.text = "from " + s.from_strategy() + " to " + s.to_strategy() + " after " +
             std::to_string(s.episodes()) + " episodes";
  } else if (event.has_link_change()) {
    const auto& l = event.link_change();
    e.kind = "link_change";
    e.text = l.source().empty() ? l.what() : l.source() + " > " + l.destination() + ": " + l.what();
  } else {
    return;
  }
  view_.event(std::move(e));
}

void Collector::round() {
  if (stopped_) return;
  const std::int64_t now = clock_.wall_ns();
  // The alerts judge what the last round saw; then the next round starts.
  if (rounds_ > 0) {
    for (const auto& change : rules_.observe(view_.observation(), now)) publish(change);
    metrics_.alerts_active.set(static_cast<std::int64_t>(rules_.book().active().size()));
    if (options_.judged) options_.judged();
  }
  ++rounds_;
  metrics_.rounds.add();
  last_round_ns_ = now;
  round_started_ns_ = clock_.steady_ns();
  pending_ = 0;
  for (const Target& target : options_.targets()) {
    scrape(target, now);
    follow(target);
    if (target.role == "proxy") read_links(target, now);
  }
  timer_.expires_after(options_.interval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) round();
  });
}

void Collector::scrape(const Target& target, std::int64_t now_ns) {
  if (target.metrics_port == 0) {
    view_.scraped(target.id, now_ns,
                  std::unexpected(std::string("not started: its metrics port is not known")));
    return;
  }
  ++pending_;
  const std::uint64_t round = rounds_;
  runtime::async_http_get(
      strand_,
      {.host = target.host,
       .port = target.metrics_port,
       .target = "/metrics",
       .timeout = timeout_,
       .body_bytes_max = 8 << 20},
      [this, id = target.id, now_ns, round](runtime::HttpResult result) {
        if (stopped_ || round != rounds_) return;  // a round behind: it timed out
        std::expected<std::vector<metrics::Series>, std::string> scrape =
            std::unexpected(std::string());
        if (result) {
          scrape = metrics::parse_text(*result);
          if (!scrape) scrape = std::unexpected("malformed metrics: " + scrape.error());
        } else {
          scrape = std::unexpected(std::move(result.error()));
        }
        if (!scrape) metrics_.scrape_failures.add();
        view_.scraped(id, now_ns, std::move(scrape));
        if (--pending_ == 0) {
          metrics_.round_seconds.observe(clock_.steady_ns() - round_started_ns_);
        }
      });
}

void Collector::read_links(const Target& proxy, std::int64_t now_ns) {
  if (proxy.metrics_port == 0) {
    view_.links(now_ns, std::unexpected(std::string("the proxy's HTTP port is not known")));
    return;
  }
  const runtime::HttpGet get{.host = proxy.host,
                             .port = proxy.metrics_port,
                             .target = "/v1/links",
                             .timeout = timeout_,
                             .body_bytes_max = 32 << 20};
  const std::uint64_t round = rounds_;
  runtime::async_http_get(strand_, get, [this, get, now_ns, round](runtime::HttpResult links) {
    if (stopped_ || round != rounds_) return;
    if (!links) return view_.links(now_ns, std::unexpected(std::move(links.error())));
    runtime::HttpGet stats = get;
    stats.target = "/v1/stats";
    runtime::async_http_get(
        strand_, stats, [this, links = std::move(*links), now_ns, round](runtime::HttpResult s) {
          if (stopped_ || round != rounds_) return;
          if (!s) return view_.links(now_ns, std::unexpected(std::move(s.error())));
          view_.links(now_ns, link_readings(links, *s));
        });
  });
}

void Collector::publish(const monitor::AlertChange& change) {
  const monitor::Alert& a = change.alert;
  const bool raised = change.kind == monitor::AlertChange::Kind::raised;
  if (raised) {
    spdlog::warn("alert {} ({}) on {}: {}", a.rule, monitor::to_string(a.severity), a.subject,
                 a.evidence);
  } else {
    spdlog::info("alert {} on {} resolved after {} ms", a.rule, a.subject,
                 (a.ended_ns - a.started_ns) / 1'000'000);
  }
  if (telemetry_ == nullptr || !telemetry_->wants(runtime::TelemetryService::Event::kAlert)) {
    return;
  }
  runtime::TelemetryService::Event event;
  auto* alert = event.mutable_alert();
  alert->set_severity(*severities.second_of(a.severity));
  alert->set_name(a.rule);
  alert->set_subject(a.subject);
  alert->set_message(a.evidence);
  alert->set_resolved(!raised);
  alert->set_started_ns(a.started_ns);
  alert->set_ended_ns(a.ended_ns);
  telemetry_->publish(std::move(event));
}

}  // namespace mkt::monitord
