// Loads the converted copy of the Python prototype's network_scenarios.yaml and checks that every
// section the prototype declared (topologies, agent types, markets, disruptions, monitoring) came
// through with its values.
#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "mkt/scenario/scenario.h"

using namespace mkt::scenario;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

const std::string reference_path = std::string(NETMARKET_SCENARIOS_DIR) + "/reference.yaml";

}  // namespace

TEST_CASE("the converted reference scenario loads with every section") {
  auto loaded = parse(read(reference_path), "reference.yaml");
  if (!loaded) FAIL(loaded.error().to_string());
  const Scenario& s = *loaded;

  CHECK(s.seed == 42);
  CHECK(s.duration_ms == 300'000);
  CHECK(s.time_step_ms == 100);

  // topologies
  REQUIRE(s.topologies.size() == 3);
  const Topology& star = s.topologies.at("star_network");
  CHECK(star.type == TopologyType::star);
  CHECK(star.sites.size() == 8);
  CHECK(star.central_site == "node_0");
  CHECK(star.link.latency.kind == DistributionKind::normal);
  CHECK(star.link.latency.mean_us == 50'000);
  CHECK(star.link.latency.std_us == 10'000);
  CHECK(star.link.bandwidth_kbps == 1000);
  const Topology& mesh = s.topologies.at("mesh_network");
  CHECK(mesh.link.latency.kind == DistributionKind::exponential);
  CHECK(mesh.link.latency.scale_us == 30'000);
  CHECK(mesh.link.bandwidth_kbps == 2000);
  const Topology& global = s.topology();
  CHECK(global.name == "global_network");
  CHECK(global.sites.size() == 12);
  REQUIRE(global.regions.size() == 4);
  CHECK(global.find_region("asia")->sites == std::vector<std::string>{"node_10", "node_11"});
  CHECK(global.find_region("us_east")->longitude_deg == -74.006);
  CHECK(global.inter_region_latency_us.size() == 6);
  CHECK(global.inter_region_latency_us.at({"europe", "us_west"}) == 120'000);
  CHECK(global.inter_region_latency_us.at({"asia", "europe"}) == 200'000);

  // markets
  const Market& multi = s.markets.at("multi_asset");
  CHECK(multi.find_symbol("STOCK_C")->reference_price_ticks == 20'000);
  CHECK(multi.volatility_ppm == 15'000);
  CHECK(multi.order_book_depth == 15);
  CHECK(multi.correlations_ppm.at({"STOCK_A", "STOCK_C"}) == -200'000);
  CHECK(s.markets.at("single_asset").find_symbol("STOCK_A")->reference_price_ticks == 10'000);

  // agent types: 3 + 2 + 1 + 2 agents
  const auto agents = s.nodes_with_role(Role::agent);
  CHECK(agents.size() == 8);
  const Node* momentum = s.find_node("momentum_trader-2");
  REQUIRE(momentum);
  const AgentSpec& spec = *momentum->agent;
  CHECK(spec.strategy == "momentum");
  CHECK(spec.initial_balance_cents == 1'000'000);
  CHECK(spec.reaction_time_us == 200'000);
  REQUIRE(spec.access_link);
  CHECK(spec.access_link->latency.value_us == 100'000);
  CHECK(spec.access_link->bandwidth_kbps == 500);
  CHECK(spec.access_link->loss_ppm == 20'000);
  CHECK(spec.params.at("momentum_threshold").decimal == mkt::core::Decimal{2, 2});
  CHECK(spec.params.at("information_sharing").boolean);
  CHECK(spec.params.at("momentum_window").integer == 60);
  CHECK(s.find_node("arbitrage_seeker-1")->agent->params.at("max_holding_time").integer ==
        300'000'000);
  CHECK(s.find_node("information_broker"));
  CHECK(s.find_node("coordinated_trader-0")->agent->params.at("max_coordination_group").integer ==
        4);
  CHECK(s.nodes_with_role(Role::validator).size() == 5);
  CHECK(s.nodes_with_role(Role::exchange).size() == 2);

  // disruptions, sorted by start
  REQUIRE(s.disruptions.size() == 3);
  CHECK(s.disruptions[0].name == "congestion_event");
  CHECK(s.disruptions[0].links == std::vector<std::pair<std::string, std::string>>{
                                      {"node_0", "node_1"}, {"node_1", "node_2"}});
  CHECK(s.disruptions[0].latency_multiplier_milli == 3000);
  CHECK(s.disruptions[0].bandwidth_reduction_ppm == 500'000);
  CHECK(s.disruptions[1].type == DisruptionType::regional_outage);
  CHECK(s.disruptions[1].region == "us_west");
  CHECK(s.disruptions[2].target == "node_3");
  CHECK(s.disruptions[2].recovery_ms == 30'000);

  // monitoring
  CHECK(s.monitoring.log_level == "info");
  CHECK(s.monitoring.metrics_interval_ms == 10'000);
  CHECK(s.monitoring.alert_thresholds.max_latency_us == 1'000'000);
  CHECK(s.monitoring.alert_thresholds.max_packet_loss_ppm == 100'000);
  CHECK(s.monitoring.alert_thresholds.min_bandwidth_kbps == 100);
}

TEST_CASE("the reference scenario on a topology without regions refuses the regional outage") {
  auto loaded = parse(read(reference_path), "reference.yaml", "star_network");
  REQUIRE_FALSE(loaded);
  REQUIRE(loaded.error().diagnostics.size() == 1);
  CHECK(loaded.error().diagnostics[0].to_string().ends_with(
      "disruptions.regional_outage.affected_region: unknown region 'us_west' in topology "
      "'star_network'"));
}
