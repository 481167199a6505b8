// Checks that good scenario files load into the expanded, validated form: counts become nodes,
// nodes are placed on sites, prices become ticks, times become integers in their unit, and each
// topology type yields its sites.
#include <catch2/catch_test_macros.hpp>
#include <string>

#include "mkt/scenario/scenario.h"

using namespace mkt::scenario;

namespace {

const std::string minimal = R"(
version: 1
name: tiny
topologies:
  lan:
    type: mesh
    num_nodes: 2
    latency_ms: 0.25
markets:
  m:
    symbols: [ABC]
    initial_price: 12.34
exchanges:
  - id: ex
    markets: [m]
consensus:
  protocol: raft
  validators: 3
agents:
  - name: mm
    strategy: market_maker
  - name: noisy
    strategy: noise
    count: 2
    site: node_1
)";

Scenario must_parse(const std::string& text, std::string_view topology = {}) {
  auto s = parse(text, "test.yaml", topology);
  if (!s) FAIL(s.error().to_string());
  return *s;
}

}  // namespace

TEST_CASE("a minimal scenario expands into nodes on sites") {
  const Scenario s = must_parse(minimal);
  CHECK(s.name == "tiny");
  CHECK(s.active_topology == "lan");
  CHECK(s.topology().sites == std::vector<std::string>{"node_0", "node_1"});
  CHECK(s.topology().link.latency.value_us == 250);

  std::vector<std::string> ids;
  for (const auto& n : s.nodes) ids.push_back(n.id);
  CHECK(ids == std::vector<std::string>{"ex", "val-0", "val-1", "val-2", "mm", "noisy-0", "noisy-1",
                                        "netproxy", "monitor"});
  // Round-robin over sites for nodes that do not choose; noisy agents chose node_1.
  CHECK(s.find_node("ex")->site == "node_0");
  CHECK(s.find_node("val-0")->site == "node_1");
  CHECK(s.find_node("val-1")->site == "node_0");
  CHECK(s.find_node("noisy-0")->site == "node_1");
  CHECK(s.find_node("netproxy")->site.empty());
  CHECK(s.proxy_id == "netproxy");
  CHECK(s.monitor_id == "monitor");
  // Agents trade on every exchange unless told otherwise.
  CHECK(s.find_node("mm")->agent->venues == std::vector<std::string>{"ex"});
}

TEST_CASE("prices become ticks on the market's grid") {
  const Scenario s = must_parse(minimal);
  const Symbol* abc = s.markets.at("m").find_symbol("ABC");
  REQUIRE(abc);
  CHECK(abc->reference_price_ticks == 1234);
  CHECK(abc->cents_per_tick_lot == 1);
  auto symbols = s.symbols_of(*s.find_node("ex"));
  REQUIRE(symbols.size() == 1);
  CHECK(symbols[0]->name == "ABC");
}

TEST_CASE("tick and lot sizes scale the cash of a tick") {
  std::string text = minimal;
  text.replace(text.find("    initial_price: 12.34"), 24,
               "    initial_price: 12.5\n    tick_size: 0.05\n    lot_size: 100");
  const Scenario s = must_parse(text);
  const Symbol* abc = s.markets.at("m").find_symbol("ABC");
  CHECK(abc->reference_price_ticks == 250);
  CHECK(abc->cents_per_tick_lot == 500);  // 0.05 * 100 = 5.00
}

TEST_CASE("every generated topology type yields numbered sites") {
  for (const std::string type : {"star", "ring", "mesh", "hierarchical"}) {
    INFO(type);
    std::string text = minimal;
    text.replace(text.find("type: mesh"), 10, "type: " + type);
    text.replace(text.find("num_nodes: 2"), 12, "num_nodes: 5");
    const Scenario s = must_parse(text);
    CHECK(s.topology().sites.size() == 5);
    CHECK(s.topology().sites.back() == "node_4");
  }
}

TEST_CASE("an explicit topology takes its sites from its links") {
  const Scenario s = must_parse(R"(
version: 1
name: explicit
topologies:
  wan:
    type: explicit
    links:
      - {from: ny, to: ldn, latency_ms: 35, bandwidth_kbps: 10000}
      - {from: ldn, to: tky, latency_distribution: uniform,
         latency_params: {min_ms: 100, max_ms: 120}, packet_loss_rate: 0.001, bidirectional: false}
markets:
  m: {symbols: [X], initial_price: 1}
exchanges:
  - {id: ex-a, site: tky, markets: [m]}
)");
  const Topology& t = s.topology();
  CHECK(t.type == TopologyType::explicit_links);
  CHECK(t.sites == std::vector<std::string>{"ny", "ldn", "tky"});
  REQUIRE(t.links.size() == 2);
  CHECK(t.links[0].spec.latency.value_us == 35'000);
  CHECK(t.links[0].spec.bandwidth_kbps == 10'000);
  CHECK(t.links[1].spec.latency.kind == DistributionKind::uniform);
  CHECK(t.links[1].spec.latency.max_us == 120'000);
  CHECK(t.links[1].spec.loss_ppm == 1000);
  CHECK_FALSE(t.links[1].bidirectional);
  CHECK(s.find_node("ex-a")->site == "tky");
}

TEST_CASE("placing by region goes round-robin within the region") {
  const Scenario s = must_parse(R"(
version: 1
name: geo
topologies:
  world:
    type: geographic
    regions:
      - {name: east, nodes: 2, coordinates: [40.7, -74.0]}
      - {name: west, nodes: 1, coordinates: [37.8, -122.4]}
    inter_region_latency: {east_west: 35}
markets:
  m: {symbols: [X], initial_price: 1}
exchanges:
  - {id: ex-e, region: east, markets: [m]}
consensus: {validators: [{id: v1, region: east}, {id: v2, region: east}, {id: v3, region: west}]}
)");
  const Topology& t = s.topology();
  CHECK(t.sites == std::vector<std::string>{"node_0", "node_1", "node_2"});
  CHECK(t.inter_region_latency_us.at({"east", "west"}) == 35'000);
  CHECK(t.route_factor_milli == 1500);
  CHECK(s.find_node("ex-e")->site == "node_0");
  CHECK(s.find_node("v1")->site == "node_1");
  CHECK(s.find_node("v2")->site == "node_0");
  CHECK(s.find_node("v3")->site == "node_2");
  CHECK(t.regions[0].latitude_deg == 40.7);
}

TEST_CASE("a topology can be chosen by the caller") {
  std::string text = minimal + R"(
network:
  topology: lan
)";
  text.replace(text.find("topologies:\n"), 12,
               "topologies:\n  big: {type: ring, num_nodes: 4, latency_ms: 1}\n");
  CHECK(must_parse(text).active_topology == "lan");
  CHECK(must_parse(text, "big").topology().sites.size() == 4);
}

TEST_CASE("the proxy and the monitor can be turned off or renamed") {
  const Scenario s = must_parse(minimal + R"(
proxy: {enabled: false}
monitoring: {enable_real_time_monitoring: true, id: watch, log_level: DEBUG}
)");
  CHECK(s.proxy_id.empty());
  CHECK(s.find_node("netproxy") == nullptr);
  CHECK(s.monitor_id == "watch");
  CHECK(s.monitoring.log_level == "debug");
}

TEST_CASE("the monitoring section: scrape interval, history, alert thresholds and hysteresis") {
  const Scenario defaults = must_parse(minimal);
  CHECK(defaults.monitoring.scrape_interval_ms == 1'000);
  CHECK(defaults.monitoring.history_points == 3'600);
  CHECK(defaults.monitoring.alert_hysteresis.band_ppm == 100'000);
  const Scenario s = must_parse(minimal + R"(
monitoring:
  scrape_interval_seconds: 0.5
  history_points: 600
  alerts_kept: 50
  alert_thresholds: {max_latency_ms: 250, max_price_divergence: 0.05, stale_after_seconds: 3,
                     commit_stall_election_timeouts: 8, settlement_lag_floor_seconds: 1.5,
                     settlement_lag_window_seconds: 20}
  alert_hysteresis: {raise_after_seconds: 1, clear_after_seconds: 4, band: 0.2,
                     event_hold_seconds: 30}
)");
  const Monitoring& m = s.monitoring;
  CHECK(m.scrape_interval_ms == 500);
  CHECK(m.history_points == 600);
  CHECK(m.alerts_kept == 50);
  CHECK(m.alert_thresholds.max_latency_us == 250'000);
  CHECK(m.alert_thresholds.max_price_divergence_ppm == 50'000);
  CHECK(m.alert_thresholds.stale_after_ms == 3'000);
  CHECK(m.alert_thresholds.commit_stall_timeouts == 8);
  CHECK(m.alert_thresholds.settlement_lag_floor_ms == 1'500);
  CHECK(m.alert_thresholds.settlement_lag_window_ms == 20'000);
  CHECK(m.alert_hysteresis.raise_after_ms == 1'000);
  CHECK(m.alert_hysteresis.clear_after_ms == 4'000);
  CHECK(m.alert_hysteresis.band_ppm == 200'000);
  CHECK(m.alert_hysteresis.event_hold_ms == 30'000);
}
