// Agents from the shipped scenarios: venues, symbols, limits and each strategy's parameters.
#include "mkt/agents/setup.h"

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <sstream>

#include "mkt/agents/strategies.h"

using namespace mkt::agents;

namespace {

mkt::scenario::Scenario load(const std::string& name) {
  const std::string path = std::string(NETMARKET_SCENARIOS) + "/" + name;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto scenario = mkt::scenario::parse(text.str(), path);
  REQUIRE(scenario);
  return std::move(*scenario);
}

}  // namespace

TEST_CASE("agent setup: the default market's agents") {
  const auto scenario = load("default.yaml");
  auto maker = agent_setup(scenario, "maker-ny", 123);
  REQUIRE(maker);
  CHECK(maker->strategy->name() == "market_maker");
  CHECK(maker->strategy->interval_ms() == 250);
  CHECK(maker->reaction_time_us == 5'000);
  REQUIRE(maker->config.venues.size() == 1);  // venues: [ex-ny]
  CHECK(maker->config.venues[0].id == "ex-ny");
  CHECK(maker->config.venues[0].symbols == std::vector<std::string>{"ACME", "GLOBX"});
  CHECK(maker->config.initial_cash_cents == 100'000'000);
  CHECK(maker->config.epoch_ns == 123);
  CHECK(maker->config.seed == 7);
  REQUIRE(maker->config.symbols.size() == 2);
  CHECK(maker->config.symbols[0].reference_ticks == 10'000);
  // Its position limit, with room for a quote that reduces it.
  CHECK(maker->config.risk.max_position_lots == 2'000 + 100);

  auto noise = agent_setup(scenario, "noise-1", 0);
  REQUIRE(noise);
  CHECK(noise->strategy->interval_ms() == 500);
  CHECK(noise->config.venues.size() == 3);  // every exchange

  auto momentum = agent_setup(scenario, "momentum-0", 0);
  REQUIRE(momentum);
  CHECK(momentum->information_sharing);
  CHECK(momentum->strategy->name() == "momentum");

  auto arb = agent_setup(scenario, "arbitrageur", 0);
  REQUIRE(arb);
  CHECK(arb->strategy->reacts_to_books());
}

TEST_CASE("agent setup: refusals name the node and the reason") {
  const auto scenario = load("default.yaml");
  CHECK(agent_setup(scenario, "nobody", 0).error() == "node 'nobody' is not in scenario default");
  CHECK(agent_setup(scenario, "ex-ny", 0).error() == "node 'ex-ny' is not an agent");
  CHECK(strategy_supported("external").error() ==
        "an external agent: run it yourself with its key from the run's accounts file");
  // An adaptive agent does not switch to a strategy that needs the peer protocols set up.
  auto text = std::string(R"(version: 1
name: t
topologies: {lan: {type: mesh, num_nodes: 2, latency_ms: 1}}
markets: {m: {symbols: [S], initial_price: 100, tick_size: 0.01}}
exchanges: [{id: ex, markets: [m]}]
agents:
  - {name: a, strategy: adaptive, strategy_config: {strategies: [noise, coordinated]}}
)");
  const auto adaptive = mkt::scenario::parse(text, "t.yaml");
  INFO((adaptive ? "" : adaptive.error().to_string()));
  REQUIRE(adaptive);
  CHECK(agent_setup(*adaptive, "a", 0).error() ==
        "agent 'a': an adaptive agent chooses among strategies that trade alone, not coordinated");
}

TEST_CASE("agent setup: an adaptive agent with its strategies and bandit") {
  const auto scenario = load("default.yaml");
  auto adaptive = agent_setup(scenario, "adaptive", 0);
  REQUIRE(adaptive);
  const auto* bandit = dynamic_cast<const AdaptiveTrader*>(adaptive->strategy.get());
  REQUIRE(bandit != nullptr);
  REQUIRE(bandit->arms() == 3);
  CHECK(bandit->arm_name(0) == "market_maker");
  CHECK(bandit->arm_name(2) == "momentum");
}

TEST_CASE("agent setup: a broker and a coalition member from their parameters") {
  const auto scenario = load("default.yaml");
  auto broker = agent_setup(scenario, "broker", 0);
  REQUIRE(broker);
  REQUIRE(broker->strategy->broker_terms());
  CHECK(broker->strategy->broker_terms()->quality_threshold == Catch::Approx(0.8));
  CHECK_FALSE(broker->strategy->coordination());

  const auto global = load("global.yaml");
  for (const auto& node : global.nodes) {
    if (!node.agent || node.agent->strategy != "coordinated") continue;
    auto member = agent_setup(global, node.id, 0);
    REQUIRE(member);
    REQUIRE(member->strategy->coordination());
    CHECK(member->strategy->coordination()->group_max == 3u);
    CHECK(member->reaction_time_us == 120'000);
  }
}
