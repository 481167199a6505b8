#pragma once
// monitord's collection: every interval, each node's /metrics and the proxy's links, on the
// management path (straight to each process, never through the proxy), into a MarketView; the
// telemetry event streams of the exchanges (trades), the validators (leader changes), the proxy
// (link changes) and the agents (strategy switches), each opened again a second after it ends; and
// the alert rules over what the last round saw. Alert changes are logged and published as telemetry
// events.
//
// Everything runs on one strand; the runner has one thread, so the HTTP API reads the view on
// that same thread.

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mkt/metrics/registry.h"
#include "mkt/monitor/rules.h"
#include "mkt/monitor/view.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/telemetry.h"
#include "mkt/runtime/tls.h"
#include "mkt/scenario/scenario.h"

namespace mkt::monitord {

// Where one node's metrics are served (the proxy's with its JSON API: /v1/links, /v1/stats), and
// its telemetry stream; port 0 while not known.
struct Target {
  std::string id;
  std::string role;
  std::string host;
  int metrics_port = 0;
  int grpc_port = 0;
};

struct CollectorOptions {
  std::chrono::milliseconds interval{1000};
  // Where every node is, asked again each round (a run folder's state may change).
  std::function<std::vector<Target>()> targets;
  // After each round's alerts are judged (on the strand): the page's push.
  std::function<void()> judged = {};
  // Mutual TLS with every node, when set: the monitor's identity.
  std::shared_ptr<const runtime::TlsIdentity> tls = {};
};

class Collector {
 public:
  Collector(runtime::Strand strand, const scenario::Scenario& scenario, CollectorOptions options,
            metrics::Registry& registry, runtime::TelemetryService* telemetry,
            const runtime::Clock& clock = runtime::system_clock());
  ~Collector();

  // On the strand.
  void start();
  void stop();
  const monitor::MarketView& view() const { return view_; }
  const monitor::Rules& rules() const { return rules_; }
  std::uint64_t rounds() const { return rounds_; }
  std::int64_t last_round_ns() const { return last_round_ns_; }

 private:
  void round();
  void scrape(const Target& target, std::int64_t now_ns);
  void read_links(const Target& proxy, std::int64_t now_ns);
  void publish(const monitor::AlertChange& change);
  struct Feed;
  void follow(const Target& target);
  void subscribe(Feed& feed);
  void on_event(const std::string& node, const market::telemetry::v1::Event& event);

  runtime::Strand strand_;
  CollectorOptions options_;
  const runtime::Clock& clock_;
  runtime::TelemetryService* telemetry_;
  monitor::MarketView view_;
  monitor::Rules rules_;
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds timeout_;
  bool stopped_ = false;
  std::uint64_t rounds_ = 0;
  std::int64_t last_round_ns_ = 0;
  struct Metrics {
    metrics::Counter& rounds;
    metrics::Counter& scrape_failures;
    metrics::Gauge& alerts_active;
    metrics::Histogram& round_seconds;
  } metrics_;
  std::int64_t round_started_ns_ = 0;
  std::size_t pending_ = 0;                             // answers this round still waits for
  std::map<std::string, std::unique_ptr<Feed>> feeds_;  // by node
};

}  // namespace mkt::monitord
