// Checks that a broken scenario file is refused with a message that names the file, the line, the
// place in the document and what was expected: one test per kind of mistake, each comparing the
// whole message.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_vector.hpp>
#include <string>
#include <vector>

#include "mkt/scenario/scenario.h"

using namespace mkt::scenario;
using Catch::Matchers::VectorContains;

namespace {

// A valid file; each test breaks one thing. Line numbers below refer to this text.
const std::string good = R"(version: 1
name: broken
topologies:
  lan:
    type: star
    num_nodes: 3
    latency_ms: 1
markets:
  m:
    symbols: [STOCK_A, STOCK_B]
    initial_price: 100.0
exchanges:
  - id: ex
    markets: [m]
agents:
  - name: a
    strategy: noise
  - name: b
    strategy: value
  - name: c
    strategy: momentum
    count: 3
    strategy_config:
      momentum_window: 60
)";

std::string with(std::string from, const std::string& find, const std::string& replace) {
  const auto at = from.find(find);
  REQUIRE(at != std::string::npos);
  from.replace(at, find.size(), replace);
  return from;
}

std::vector<std::string> errors(const std::string& text, std::string_view topology = {}) {
  auto s = parse(text, "default.yaml", topology);
  std::vector<std::string> out;
  if (s) return out;
  for (const auto& d : s.error().diagnostics) out.push_back(d.to_string());
  return out;
}

}  // namespace

TEST_CASE("the good file loads") {
  CHECK(errors(good).empty());
}

TEST_CASE("an unknown strategy lists the known ones") {
  CHECK_THAT(
      errors(with(good, "strategy: momentum", "strategy: momentun")),
      VectorContains(std::string(
          "default.yaml:21: agents[2].strategy: unknown strategy 'momentun' (expected one "
          "of: adaptive, arbitrage, coordinated, external, information_broker, market_maker, "
          "mean_reversion, momentum, noise or value)")));
}

TEST_CASE("YAML syntax errors give the line") {
  CHECK(errors(with(good, "    symbols: [STOCK_A, STOCK_B]", "    symbols: [STOCK_A, STOCK_B")) ==
        std::vector<std::string>{
            "default.yaml:11: YAML syntax error: end of sequence flow not found"});
}

TEST_CASE("a misspelt key is named with the keys allowed there") {
  CHECK(errors(with(good, "agents:", "agnets:")) ==
        std::vector<std::string>{
            "default.yaml:15: agnets: unknown key 'agnets' (expected one of: version, name, "
            "description, simulation, network, topologies, markets, exchanges, consensus, agents, "
            "disruptions, monitoring or proxy)"});
}

TEST_CASE("a missing required field") {
  CHECK(errors(with(good, "    symbols: [STOCK_A, STOCK_B]\n", "")) ==
        std::vector<std::string>{"default.yaml:10: markets.m.symbols: missing required field"});
}

TEST_CASE("a value of the wrong type") {
  CHECK(errors(with(good, "count: 3", "count: three")) ==
        std::vector<std::string>{
            "default.yaml:22: agents[2].count: expected a whole number, got 'three'"});
  CHECK(errors(with(good, "    num_nodes: 3", "    num_nodes: [3]")) ==
        std::vector<std::string>{
            "default.yaml:6: topologies.lan.num_nodes: expected a whole number, got a list"});
}

TEST_CASE("a value out of its range") {
  CHECK(errors(with(good, "    num_nodes: 3", "    num_nodes: 1")) ==
        std::vector<std::string>{
            "default.yaml:6: topologies.lan.num_nodes: 1 is out of range (expected 2 to 1024)"});
  CHECK(errors(with(good, "    latency_ms: 1", "    latency_ms: 1\n    packet_loss_rate: 1.5")) ==
        std::vector<std::string>{"default.yaml:8: topologies.lan.packet_loss_rate: 1.5 is out of "
                                 "range (expected 0 to 0.999999)"});
}

TEST_CASE("a price off the tick grid is not rounded") {
  CHECK(errors(with(good, "initial_price: 100.0", "initial_price: 100.005")) ==
        std::vector<std::string>{"default.yaml:11: markets.m.initial_price: price 100.005 is not "
                                 "a multiple of the tick size 0.01"});
}

TEST_CASE("a node id used twice") {
  CHECK(errors(with(good, "  - name: b\n", "  - name: a\n")) ==
        std::vector<std::string>{
            "default.yaml:18: nodes: node id 'a' is used twice (first at line 16)"});
}

TEST_CASE("a reference to something not declared") {
  CHECK(errors(with(good, "markets: [m]", "markets: [n]")) ==
        std::vector<std::string>{
            "default.yaml:14: exchanges[0].markets[0]: unknown market 'n' (expected one of: m)"});
  CHECK(
      errors(good + "    venues: [nowhere]\n") ==
      std::vector<std::string>{"default.yaml:25: agents[2].venues[0]: unknown exchange 'nowhere'"});
  CHECK(errors(good + "disruptions:\n  d: {type: node_failure, start_seconds: 1, "
                      "duration_seconds: 2, target_node: node_9}\n") ==
        std::vector<std::string>{"default.yaml:26: disruptions.d.target_node: 'node_9' is "
                                 "neither a site of topology 'lan' nor a node"});
}

TEST_CASE("a key that belongs to another topology type") {
  CHECK(errors(with(good, "    num_nodes: 3", "    num_nodes: 3\n    fanout: 2")) ==
        std::vector<std::string>{
            "default.yaml:7: topologies.lan.fanout: fanout is not used by a star topology"});
}

TEST_CASE("a key given twice") {
  CHECK(errors(with(good, "    latency_ms: 1", "    latency_ms: 1\n    latency_ms: 2")) ==
        std::vector<std::string>{
            "default.yaml:8: topologies.lan.latency_ms: key 'latency_ms' appears twice"});
}

TEST_CASE("an unknown strategy parameter") {
  CHECK(errors(with(good, "momentum_window: 60", "momentum_windw: 60")) ==
        std::vector<std::string>{
            "default.yaml:24: agents[2].strategy_config.momentum_windw: unknown parameter "
            "'momentum_windw' for strategy momentum (expected one of: reaction_time_ms, "
            "information_sharing, confidence_threshold, momentum_window, momentum_threshold, "
            "quantity_lots or sample_interval_ms)"});
}

TEST_CASE("a strategy parameter of the wrong type") {
  CHECK(errors(with(good, "momentum_window: 60", "information_sharing: maybe")) ==
        std::vector<std::string>{"default.yaml:24: agents[2].strategy_config.information_sharing: "
                                 "expected true or false, got 'maybe'"});
  CHECK(errors(with(good, "momentum_window: 60", "information_sharing: True")).empty());
  CHECK(errors(with(good, "momentum_window: 60", "confidence_threshold: 1.5")) ==
        std::vector<std::string>{"default.yaml:24: agents[2].strategy_config.confidence_threshold: "
                                 "1.5 is out of range (expected 0 to 1)"});
}

TEST_CASE("correlations that cannot hold together") {
  const std::string text =
      with(good, "    initial_price: 100.0",
           "    initial_price: 100.0\n    correlations: {STOCK_A_STOCK_C: 0.5}");
  CHECK(errors(text) ==
        std::vector<std::string>{"default.yaml:12: markets.m.correlations.STOCK_A_STOCK_C: "
                                 "expected two different symbols of this market joined by '_' "
                                 "(symbols: STOCK_A or STOCK_B)"});
  const std::string three = with(
      with(good, "[STOCK_A, STOCK_B]", "[STOCK_A, STOCK_B, STOCK_C]"), "    initial_price: 100.0",
      "    initial_price: 100.0\n    correlations:\n      STOCK_A_STOCK_B: 0.9\n"
      "      STOCK_A_STOCK_C: 0.9\n      STOCK_B_STOCK_C: -0.9");
  CHECK(errors(three) ==
        std::vector<std::string>{"default.yaml:13: markets.m.correlations: these correlations "
                                 "cannot hold together (the matrix is not positive "
                                 "semi-definite)"});
}

TEST_CASE("an unsupported version and an empty file") {
  CHECK(errors(with(good, "version: 1", "version: 2")) ==
        std::vector<std::string>{
            "default.yaml:1: version: unsupported version 2 (this build reads version 1)"});
  CHECK(errors("") == std::vector<std::string>{"default.yaml: the file is empty (expected a "
                                               "scenario: version, name, topologies, ...)"});
  CHECK(errors("- a\n- b\n") ==
        std::vector<std::string>{"default.yaml:1: expected a mapping for the document"});
}

TEST_CASE("too few validators for the Byzantine faults declared") {
  CHECK(errors(good + "consensus:\n  protocol: streamlet\n  validators: 3\n  byzantine: {nodes: "
                      "1}\n") ==
        std::vector<std::string>{"default.yaml: consensus.byzantine.nodes: 1 Byzantine "
                                 "validators need at least 4 validators (n = 3f + 1), not 3"});
}

TEST_CASE("every problem in a file is reported, in file order") {
  const std::string text =
      with(with(good, "count: 3", "count: -1"), "strategy: noise", "strategy: nose");
  const auto found = errors(text);
  REQUIRE(found.size() == 2);
  CHECK(found[0].starts_with("default.yaml:17: agents[0].strategy: unknown strategy 'nose'"));
  CHECK(found[1] == "default.yaml:22: agents[2].count: -1 is out of range (expected 1 to 1024)");
}

TEST_CASE("a file over the size limit is refused before parsing") {
  CHECK(errors(std::string(file_bytes_max + 1, '#')) ==
        std::vector<std::string>{"default.yaml: file is larger than 1048576 bytes"});
}

TEST_CASE("a monitoring section monitord cannot work with") {
  CHECK(errors(good + "monitoring:\n  scrape_interval_seconds: 0.01\n") ==
        std::vector<std::string>{"default.yaml:26: monitoring.scrape_interval_seconds: 0.01 is out "
                                 "of range (expected 0.1 to 60)"});
  CHECK(errors(good + "monitoring:\n  alert_hysteresis: {band: 1.5, raise_after: 2}\n") ==
        std::vector<std::string>{
            "default.yaml:26: monitoring.alert_hysteresis.raise_after: unknown key 'raise_after' "
            "(expected one of: raise_after_seconds, clear_after_seconds, band or "
            "event_hold_seconds)",
            "default.yaml:26: monitoring.alert_hysteresis.band: 1.5 is out of range (expected 0 "
            "to 0.999999)"});
}
