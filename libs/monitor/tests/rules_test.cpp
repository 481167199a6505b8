#include "mkt/monitor/rules.h"

#include <catch2/catch_test_macros.hpp>
#include <functional>

using namespace mkt::monitor;

namespace {

constexpr std::int64_t s = 1'000'000'000;

Hysteresis quick() {
  return {.raise_after_ns = 2 * s, .clear_after_ns = 3 * s, .band = 0.1, .event_hold_ns = 5 * s};
}

RuleParams params() {
  return {.max_latency_us = 100'000,
          .max_packet_loss_ppm = 10'000,
          .min_bandwidth_kbps = 1'000,
          .election_timeout_ms = 200,
          .commit_stall_timeouts = 5,
          .stale_after_ms = 3'000,
          .max_price_divergence_ppm = 20'000,
          .lag_floor_ms = 2'000,
          .lag_window_ms = 4'000};
}

// A market of one exchange, one agent, one validator and a proxy, all up and quiet.
Observation calm() {
  Observation o;
  o.nodes = {{.id = "ex-1", .role = "exchange", .up = true, .error = ""},
             {.id = "ex-2", .role = "exchange", .up = true, .error = ""},
             {.id = "val-1", .role = "validator", .up = true, .error = ""},
             {.id = "mm", .role = "agent", .up = true, .error = ""}};
  o.links = {{.from = "mm",
              .to = "ex-1",
              .carried_traffic = true,
              .delay_p99_us = 5'000,
              .loss_ppm = 0,
              .bandwidth_cap_kbps = 0,
              .partitioned = false,
              .unreachable = false}};
  o.validators = {{.id = "val-1", .term = 1, .leads = true, .commit_index = 10}};
  o.quotes = {
      {.venue = "ex-1", .symbol = "S", .mid_ticks = 10'000, .changed_ns = 0, .tick_size = 0.01},
      {.venue = "ex-2", .symbol = "S", .mid_ticks = 10'010, .changed_ns = 0, .tick_size = 0.01}};
  o.exchanges = {{.id = "ex-1", .settlement_lag_ms = 0}, {.id = "ex-2", .settlement_lag_ms = 0}};
  o.feeds = {{.agent = "mm", .venue = "ex-1", .connected = true}};
  o.agents_trading = true;
  return o;
}

// Runs one observation per second from `from` to `to` (exclusive), with `change` applied to the
// calm market at each second; returns every alert change, and the quotes keep changing unless
// `change` says otherwise.
struct Run {
  Rules rules{params(), quick()};
  std::int64_t commit = 10;
  std::vector<AlertChange> over(int from, int to,
                                const std::function<void(Observation&, int)>& change) {
    std::vector<AlertChange> out;
    for (int t = from; t < to; ++t) {
      Observation o = calm();
      for (auto& q : o.quotes) q.changed_ns = t * s;
      o.validators[0].commit_index = ++commit;
      change(o, t);
      auto changes = rules.observe(o, t * s);
      out.insert(out.end(), changes.begin(), changes.end());
    }
    return out;
  }
  std::vector<Alert> active(const std::string& rule) const {
    std::vector<Alert> out;
    for (const auto& a : rules.book().active()) {
      if (a.rule == rule) out.push_back(a);
    }
    return out;
  }
};

std::size_t count(const std::vector<AlertChange>& changes, const std::string& rule,
                  AlertChange::Kind kind) {
  std::size_t n = 0;
  for (const auto& c : changes) n += c.alert.rule == rule && c.kind == kind ? 1U : 0U;
  return n;
}

constexpr auto raised = AlertChange::Kind::raised;
constexpr auto resolved = AlertChange::Kind::resolved;

}  // namespace

TEST_CASE("rules: a calm market raises nothing") {
  Run run;
  CHECK(run.over(0, 60, [](Observation&, int) {}).empty());
}

TEST_CASE("rules: link latency raises, holds under noise, resolves") {
  Run run;
  auto changes = run.over(0, 3, [](Observation& o, int) { o.links[0].delay_p99_us = 250'000; });
  REQUIRE(count(changes, "link_latency", raised) == 1);
  const Alert a = run.active("link_latency").at(0);
  CHECK(a.subject == "mm>ex-1");
  CHECK(a.started_ns == 0);
  CHECK(a.evidence == "p99 delay 250.0 ms > 100.0 ms");
  // Noise around the threshold for 30 s: no resolution, no second alert.
  changes = run.over(3, 33, [](Observation& o, int t) {
    o.links[0].delay_p99_us = t % 2 == 0 ? 101'000 : 92'000;
  });
  CHECK(changes.empty());
  // Clear: resolved after clear_after.
  changes = run.over(33, 40, [](Observation&, int) {});
  CHECK(count(changes, "link_latency", resolved) == 1);
  CHECK(run.active("link_latency").empty());
}

TEST_CASE("rules: a latency that flickers across the threshold never raises") {
  Run run;
  // Above for one second in every two: never raise_after (2 s) in a row.
  const auto changes = run.over(0, 60, [](Observation& o, int t) {
    o.links[0].delay_p99_us = t % 2 == 0 ? 150'000 : 50'000;
  });
  CHECK(changes.empty());
}

TEST_CASE("rules: an idle link is not judged on its delay") {
  Run run;
  const auto changes = run.over(0, 10, [](Observation& o, int) {
    o.links[0].carried_traffic = false;
    o.links[0].delay_p99_us = 900'000;
  });
  CHECK(changes.empty());
}

TEST_CASE("rules: loss and a low bandwidth cap raise and resolve") {
  Run run;
  auto changes = run.over(0, 5, [](Observation& o, int) {
    o.links[0].loss_ppm = 50'000;
    o.links[0].bandwidth_cap_kbps = 500;
  });
  CHECK(count(changes, "link_loss", raised) == 1);
  CHECK(count(changes, "link_bandwidth", raised) == 1);
  CHECK(run.active("link_bandwidth").at(0).evidence == "capped at 500 kbit/s < 1000 kbit/s");
  // A cap inside the band (1,000 to 1,100) holds it; uncapped clears it.
  changes = run.over(5, 15, [](Observation& o, int) { o.links[0].bandwidth_cap_kbps = 1'050; });
  CHECK(count(changes, "link_bandwidth", resolved) == 0);
  CHECK(count(changes, "link_loss", resolved) == 1);
  changes = run.over(15, 20, [](Observation&, int) {});
  CHECK(count(changes, "link_bandwidth", resolved) == 1);
}

TEST_CASE("rules: a partition from the proxy or from a node's report, healed") {
  Run run;
  auto changes = run.over(0, 3, [](Observation& o, int) { o.links[0].partitioned = true; });
  REQUIRE(count(changes, "partition", raised) == 1);
  CHECK(run.active("partition").at(0).severity == Severity::critical);
  CHECK(run.active("partition").at(0).evidence == "black-holed by the proxy");
  changes = run.over(3, 7, [](Observation&, int) {});
  CHECK(count(changes, "partition", resolved) == 1);
  changes = run.over(7, 10, [](Observation& o, int) { o.links[0].unreachable = true; });
  REQUIRE(count(changes, "partition", raised) == 1);
  CHECK(run.active("partition").at(0).evidence ==
        "mm's calls to ex-1 fail while ex-1 answers the monitor");
}

TEST_CASE("rules: a node that does not answer is down until it answers again") {
  Run run;
  auto changes = run.over(0, 3, [](Observation& o, int) {
    o.nodes[3].up = false;
    o.nodes[3].error = "connection refused";
    o.feeds.clear();
  });
  REQUIRE(count(changes, "node_down", raised) == 1);
  CHECK(run.active("node_down").at(0).subject == "mm");
  CHECK(run.active("node_down").at(0).evidence == "agent does not answer: connection refused");
  changes = run.over(3, 7, [](Observation&, int) {});
  CHECK(count(changes, "node_down", resolved) == 1);
}

TEST_CASE("rules: a leader change is an event; no leader is a condition") {
  Run run;
  run.over(0, 2, [](Observation&, int) {});
  auto changes = run.over(2, 3, [](Observation& o, int) {
    o.validators[0].id = "val-2";
    o.validators[0].term = 2;
  });
  REQUIRE(count(changes, "leader_change", raised) == 1);
  CHECK(run.active("leader_change").at(0).evidence == "val-2 leads in term 2, after val-1");
  // Resolved after the hold (5 s) without another change.
  changes = run.over(3, 9, [](Observation& o, int) {
    o.validators[0].id = "val-2";
    o.validators[0].term = 2;
  });
  CHECK(count(changes, "leader_change", resolved) == 1);
  // Nobody leads for a while.
  changes = run.over(9, 12, [](Observation& o, int) { o.validators[0].leads = false; });
  CHECK(count(changes, "no_leader", raised) == 1);
  changes = run.over(12, 16, [](Observation&, int) {});
  CHECK(count(changes, "no_leader", resolved) == 1);
  CHECK(count(changes, "leader_change", raised) == 1);  // val-1 leads again
}

TEST_CASE("rules: a commit stall is judged only while trades wait to settle") {
  Run run;
  // The commit index stands still for 10 s with nothing to settle: no alert.
  auto changes = run.over(0, 10, [](Observation& o, int) { o.validators[0].commit_index = 5; });
  CHECK(changes.empty());
  // Trades wait: the commit index has not moved for over 5 x 200 ms.
  changes = run.over(10, 13, [](Observation& o, int) {
    o.validators[0].commit_index = 5;
    o.exchanges[1].settlement_lag_ms = 1'500;
  });
  REQUIRE(count(changes, "commit_stall", raised) == 1);
  CHECK(
      run.active("commit_stall").at(0).evidence.starts_with("commit index 5 has not moved for 1"));
  CHECK(run.active("commit_stall").at(0).evidence.ends_with("while ex-2 waits 1.50 s to settle"));
  // Commits resume.
  changes = run.over(13, 17, [](Observation& o, int) { o.exchanges[1].settlement_lag_ms = 100; });
  CHECK(count(changes, "commit_stall", resolved) == 1);
}

TEST_CASE("rules: market data that stops changing while agents trade is stale") {
  Run run;
  auto changes = run.over(0, 8, [](Observation& o, int) { o.quotes[0].changed_ns = 1; });
  REQUIRE(count(changes, "stale_market_data", raised) == 1);
  CHECK(run.active("stale_market_data").at(0).subject == "ex-1/S");
  // Unchanged prices while nobody trades are not stale.
  changes = run.over(8, 14, [](Observation& o, int) {
    o.quotes[0].changed_ns = 1;
    o.agents_trading = false;
  });
  CHECK(count(changes, "stale_market_data", resolved) == 1);
}

TEST_CASE("rules: prices diverging across venues beyond the band") {
  Run run;
  // 3% apart, for long enough.
  auto changes = run.over(0, 3, [](Observation& o, int) { o.quotes[1].mid_ticks = 10'300; });
  REQUIRE(count(changes, "price_divergence", raised) == 1);
  CHECK(run.active("price_divergence").at(0).evidence ==
        "S mid 103.00 on ex-2 and 100.00 on ex-1: 3.00% apart > 2.00%");
  // 1.9% apart: inside the band, holds.
  changes = run.over(3, 20, [](Observation& o, int) { o.quotes[1].mid_ticks = 10'190; });
  CHECK(changes.empty());
  // A venue whose book empties leaves one price: nothing to compare, so clear.
  changes = run.over(20, 25, [](Observation& o, int) { o.quotes[1].mid_ticks.reset(); });
  CHECK(count(changes, "price_divergence", resolved) == 1);
}

TEST_CASE("rules: an agent without a market data stream is disconnected") {
  Run run;
  auto changes = run.over(0, 3, [](Observation& o, int) { o.feeds[0].connected = false; });
  REQUIRE(count(changes, "agent_disconnected", raised) == 1);
  CHECK(run.active("agent_disconnected").at(0).subject == "mm>ex-1");
  changes = run.over(3, 7, [](Observation&, int) {});
  CHECK(count(changes, "agent_disconnected", resolved) == 1);
}

TEST_CASE("rules: settlement lag that grows over the window, not one that is merely high") {
  Run run;
  // A steady 3 s lag does not grow: no alert.
  auto changes =
      run.over(0, 10, [](Observation& o, int) { o.exchanges[0].settlement_lag_ms = 3'000; });
  CHECK(changes.empty());
  // The ledger stops: the lag grows by a second each second.
  changes = run.over(10, 20, [](Observation& o, int t) {
    o.exchanges[0].settlement_lag_ms = 3'000 + (t - 10) * 1'000;
    o.validators[0].commit_index = 100;
  });
  CHECK(count(changes, "settlement_lag_growing", raised) == 1);
  CHECK(count(changes, "commit_stall", raised) == 1);
  // It settles: the lag falls and the alert resolves.
  changes = run.over(20, 25, [](Observation& o, int) { o.exchanges[0].settlement_lag_ms = 50; });
  CHECK(count(changes, "settlement_lag_growing", resolved) == 1);
}
