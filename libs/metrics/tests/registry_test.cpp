// The metrics registry: the same name and labels give the same metric, histograms bucket by upper
// bound and report quantiles by bucket, and render() writes Prometheus's text format exactly
// (HELP and TYPE per family, escaped label values, cumulative buckets ending in +Inf, sum in the
// base unit).

#include "mkt/metrics/registry.h"

#include <catch2/catch_test_macros.hpp>
#include <thread>

using namespace mkt::metrics;

TEST_CASE("the same name and labels give the same metric") {
  Registry registry;
  Counter& a = registry.counter("orders_total", "Orders.", {{"kind", "submit"}});
  Counter& b = registry.counter("orders_total", "Orders.", {{"kind", "submit"}});
  Counter& c = registry.counter("orders_total", "Orders.", {{"kind", "cancel"}});
  CHECK(&a == &b);
  CHECK(&a != &c);
}

TEST_CASE("histogram buckets, sums and quantile bounds") {
  Histogram h({10, 100, 1000});
  for (std::int64_t v : {1, 10, 11, 50, 500, 5000}) h.observe(v);
  CHECK(h.counts() == std::vector<std::uint64_t>{2, 2, 1, 1});
  CHECK(h.count() == 6);
  CHECK(h.sum() == 5572);
  CHECK(h.quantile_bound(0.5) == 100);
  CHECK(h.quantile_bound(0.3) == 10);
  CHECK(exponential_bounds(1000, 10, 1'000'000) ==
        std::vector<std::int64_t>{1000, 10'000, 100'000, 1'000'000});
}

TEST_CASE("counters are exact under concurrent updates") {
  Registry registry;
  Counter& counter = registry.counter("events_total", "Events.");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100'000; ++i) counter.add();
    });
  }
  for (auto& t : threads) t.join();
  CHECK(counter.value() == 400'000);
}

TEST_CASE("render writes the Prometheus text format") {
  Registry registry;
  registry.counter("trades_total", "Trades.", {{"symbol", "A\"B"}}).add(3);
  registry.gauge("sessions", "Open sessions.").set(-2);
  Histogram& h = registry.histogram("ack_seconds", "Ack latency.", {1000, 1'000'000}, 1e9);
  h.observe(500);
  h.observe(2'000'000);
  CHECK(registry.render() ==
        "# HELP ack_seconds Ack latency.\n"
        "# TYPE ack_seconds histogram\n"
        "ack_seconds_bucket{le=\"1e-06\"} 1\n"
        "ack_seconds_bucket{le=\"0.001\"} 1\n"
        "ack_seconds_bucket{le=\"+Inf\"} 2\n"
        "ack_seconds_sum 0.0020005\n"
        "ack_seconds_count 2\n"
        "# HELP sessions Open sessions.\n"
        "# TYPE sessions gauge\n"
        "sessions -2\n"
        "# HELP trades_total Trades.\n"
        "# TYPE trades_total counter\n"
        "trades_total{symbol=\"A\\\"B\"} 3\n");
}

TEST_CASE("a gauge kept in milliseconds renders in seconds") {
  mkt::metrics::Registry registry;
  registry.gauge("lag_seconds", "Lag.", {}, 1e3).set(1'500);
  CHECK(registry.render().find("\nlag_seconds 1.5\n") != std::string::npos);
  CHECK(registry.samples().at(0).per_base == 1e3);
}
