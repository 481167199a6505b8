// The network graph of each topology type and the routes through it: who is wired to whom, the
// least-latency path, its latency summed, bandwidth the minimum and loss combined; overrides;
// one-way links; a seeded random graph that is the same for the same seed and always connected;
// and every pair of sites of the reference file's geographic network reachable.

#include "mkt/netmodel/network.h"

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <sstream>

using namespace mkt::netmodel;
using mkt::scenario::LinkSpec;
using mkt::scenario::Topology;
using mkt::scenario::TopologyType;

namespace {

LinkSpec link(std::int64_t latency_us, std::int64_t kbps = 0, std::uint32_t loss_ppm = 0) {
  LinkSpec spec;
  spec.latency.value_us = latency_us;
  spec.bandwidth_kbps = kbps;
  spec.loss_ppm = loss_ppm;
  return spec;
}

Topology topology(TopologyType type, std::size_t sites, LinkSpec spec = link(1000)) {
  Topology t;
  t.type = type;
  for (std::size_t i = 0; i < sites; ++i) t.sites.push_back("node_" + std::to_string(i));
  t.link = spec;
  t.central_site = "node_0";
  t.fanout = 2;
  return t;
}

std::vector<SiteIndex> path(const Network& n, SiteIndex a, SiteIndex b) {
  const auto r = n.route(a, b);
  return r ? r->sites : std::vector<SiteIndex>{};
}

}  // namespace

TEST_CASE("star, ring, mesh and hierarchical are wired as documented") {
  const Network star = Network::build(topology(TopologyType::star, 5), 1);
  CHECK(star.hops().size() == 8);
  CHECK(path(star, 1, 4) == std::vector<SiteIndex>{1, 0, 4});
  CHECK(star.route(1, 4)->mean_latency_us == 2000);

  const Network ring = Network::build(topology(TopologyType::ring, 6), 1);
  CHECK(ring.hops().size() == 12);
  CHECK(path(ring, 0, 2) == std::vector<SiteIndex>{0, 1, 2});
  CHECK(path(ring, 0, 4) == std::vector<SiteIndex>{0, 5, 4});     // the short way round
  CHECK(path(ring, 0, 3) == std::vector<SiteIndex>{0, 1, 2, 3});  // a tie: lower sites first

  const Network mesh = Network::build(topology(TopologyType::mesh, 4), 1);
  CHECK(mesh.hops().size() == 12);
  CHECK(path(mesh, 3, 1) == std::vector<SiteIndex>{3, 1});

  const Network tree = Network::build(topology(TopologyType::hierarchical, 7), 1);
  CHECK(path(tree, 3, 6) == std::vector<SiteIndex>{3, 1, 0, 2, 6});
  CHECK(path(tree, 2, 2) == std::vector<SiteIndex>{2});
}

TEST_CASE("a route sums latency, takes the least bandwidth and combines loss") {
  Topology t = topology(TopologyType::explicit_links, 0);
  t.sites = {"a", "b", "c"};
  t.links = {{"a", "b", link(300, 1000, 10'000), true, 0},
             {"b", "c", link(700, 400, 20'000), true, 0}};
  const Network n = Network::build(t, 1);
  const auto route = n.route(0, 2);
  REQUIRE(route);
  CHECK(route->mean_latency_us == 1000);
  CHECK(route->bandwidth_kbps == 400);
  CHECK(route->loss == Catch::Approx(1 - 0.99 * 0.98));
}

TEST_CASE("overrides replace a hop, and a one-way link has no way back") {
  Topology t = topology(TopologyType::ring, 4);
  t.links = {{"node_0", "node_1", link(5000), true, 0}};
  const Network n = Network::build(t, 1);
  CHECK(path(n, 0, 1) == std::vector<SiteIndex>{0, 3, 2, 1});  // 3 ms round beats 5 ms direct

  Topology one_way = topology(TopologyType::explicit_links, 0);
  one_way.sites = {"a", "b"};
  one_way.links = {{"a", "b", link(10), false, 0}};
  const Network m = Network::build(one_way, 1);
  CHECK(m.route(0, 1));
  CHECK_FALSE(m.route(1, 0));
}

TEST_CASE("a random graph is the seed's, and connected") {
  Topology t = topology(TopologyType::random, 30);
  t.edge_probability_ppm = 30'000;  // sparse: many components before joining
  const Network a = Network::build(t, 7);
  const Network b = Network::build(t, 7);
  const Network c = Network::build(t, 8);
  CHECK(a.hops().size() == b.hops().size());
  for (std::size_t h = 0; h < a.hops().size(); ++h) {
    CHECK((a.hops()[h].from == b.hops()[h].from && a.hops()[h].to == b.hops()[h].to));
  }
  bool differs = a.hops().size() != c.hops().size();
  for (std::size_t h = 0; !differs && h < a.hops().size(); ++h) {
    differs = a.hops()[h].from != c.hops()[h].from || a.hops()[h].to != c.hops()[h].to;
  }
  CHECK(differs);
  for (SiteIndex s = 1; s < 30; ++s) CHECK(a.route(0, s));
}

TEST_CASE("geographic: declared inter-region latency, else great-circle fibre") {
  Topology t = topology(TopologyType::geographic, 0, link(0, 0, 0));
  t.sites = {"node_0", "node_1", "node_2", "node_3"};
  t.regions = {{"ny", 40.7128, -74.0060, {"node_0", "node_1"}},
               {"london", 51.5074, -0.1278, {"node_2"}},
               {"tokyo", 35.6762, 139.6503, {"node_3"}}};
  t.inter_region_latency_us[{"london", "ny"}] = 35'000;
  t.intra_region_latency_us = 500;
  t.per_hop_us = 100;
  t.route_factor_milli = 1500;
  const Network n = Network::build(t, 1);
  CHECK(n.route(1, 2)->mean_latency_us == 600 + 35'100);  // via the NY gateway, node_0
  CHECK(path(n, 1, 2) == std::vector<SiteIndex>{1, 0, 2});
  const auto tokyo = n.hop_between(0, 3);
  REQUIRE(tokyo);
  // About 10,850 km at 1.5 route factor and 5 us/km, plus the hop.
  CHECK(n.hops()[*tokyo].spec.latency.value_us == Catch::Approx(81'475).margin(1500));
}

TEST_CASE("every pair of sites of the reference file's network is reachable") {
  std::ifstream in(NETMARKET_SCENARIOS_DIR "/reference.yaml");
  std::stringstream text;
  text << in.rdbuf();
  const auto scenario = mkt::scenario::parse(text.str(), "reference.yaml");
  REQUIRE(scenario);
  for (const auto& [name, topology] : scenario->topologies) {
    const Network n = Network::build(topology, scenario->seed);
    INFO(name);
    for (SiteIndex a = 0; a < n.sites().size(); ++a) {
      for (SiteIndex b = 0; b < n.sites().size(); ++b) CHECK(n.route(a, b));
    }
  }
}
