// The links between nodes: paths with access hops and their exact timing (serialisation
// pipelined over hops, latency summed), shared buckets and drops at a full queue with a doubling
// retry, loss delivered after a doubling timeout, no reordering within a flow, overrides,
// congestion, and partitions of every shape, healed and reset.

#include "mkt/netmodel/links.h"

#include <algorithm>
#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace mkt::netmodel;
using mkt::scenario::DistributionKind;

namespace {

// Star of three sites, 1 ms and 8 Mbit/s (1 byte per microsecond) a hop, node_0 -> node_2 at
// 5 ms. ex-a and fast sit on node_1, ex-b on node_2, slow on node_0 behind its own access link.
constexpr const char* star_yaml = R"(
version: 1
name: links-test
simulation: {random_seed: 7}
topologies:
  net:
    type: star
    num_nodes: 3
    latency_ms: 1
    bandwidth_kbps: 8000
    links: [{from: node_0, to: node_2, latency_ms: 5, bandwidth_kbps: 8000}]
markets:
  m: {symbols: [S], initial_price: 100}
exchanges:
  - {id: ex-a, site: node_1, markets: [m]}
  - {id: ex-b, site: node_2, markets: [m]}
agents:
  - {name: fast, strategy: noise, site: node_1, initial_balance: 1000}
  - {name: slow, strategy: noise, site: node_0, initial_balance: 1000,
     network_config: {latency_ms: 10, bandwidth_kbps: 800}}
  - {name: other, strategy: noise, site: node_2, initial_balance: 1000}
proxy: {enabled: true, id: netproxy}
)";

mkt::scenario::Scenario load(const char* yaml) {
  auto s = mkt::scenario::parse(yaml, "links-test.yaml");
  if (!s) FAIL(s.error().to_string());
  return std::move(*s);
}

mkt::scenario::Scenario reference() {
  std::ifstream in(std::string(NETMARKET_SCENARIOS_DIR) + "/reference.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto s = mkt::scenario::parse(text.str(), "reference.yaml");
  if (!s) FAIL(s.error().to_string());
  return std::move(*s);
}

LinkId link(const LinkModel& m, const char* a, const char* b) {
  const auto id = m.find(a, b);
  REQUIRE(id);
  return *id;
}

LinkParams constant_link(std::int64_t latency_us) {
  LinkParams p;
  p.latency.kind = DistributionKind::constant;
  p.latency.value_us = latency_us;
  return p;
}

constexpr std::int64_t ms = 1'000'000;

}  // namespace

TEST_CASE("a link follows the route between its sites with the access hops") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  CHECK(m.nodes().size() == 5);
  CHECK_FALSE(m.find("netproxy", "ex-a"));  // the proxy is not on the impaired network
  CHECK_FALSE(m.find("ex-a", "nobody"));
  CHECK(m.link_count() == 20);

  const LinkId fast_b = link(m, "fast", "ex-b");
  CHECK(m.route(fast_b) == std::vector<std::string>{"fast", "node_1", "node_0", "node_2", "ex-b"});
  const LinkParams p = m.params(fast_b);
  CHECK(p.latency.kind == DistributionKind::constant);
  CHECK(p.latency.value_us == 6000);
  CHECK(p.bandwidth_kbps == 8000);
  CHECK(p.rto_us == 212'000);  // 200 ms + the round trip
  CHECK_FALSE(m.overridden(fast_b));

  // 100 bytes: 100 us on the first hop, one more segment (the same 100 bytes) on the second.
  Flow flow;
  auto t = m.send(fast_b, flow, 0, 100);
  CHECK_FALSE(t.dropped);
  CHECK(t.release_ns == 6 * ms + 200'000);
  // 3000 bytes pipelined: 3000 us once, plus one 1448-byte segment on the second hop.
  Flow bulk;
  t = m.send(link(m, "ex-b", "fast"), bulk, 0, 3000);
  CHECK(t.release_ns == 6 * ms + 3000'000 + 1448'000);

  // Behind slow's access link: 10 ms and 800 kbit/s, then one hop of 1 ms.
  Flow up;
  t = m.send(link(m, "slow", "ex-a"), up, 0, 100);
  CHECK(t.release_ns == 11 * ms + 1'000'000 + 100'000);
  CHECK(m.params(link(m, "slow", "ex-a")).bandwidth_kbps == 800);

  // Chunks on a paced path hold 5 ms of its narrowest rate: 5000 bytes at 8 Mbit/s, 500 at
  // 800 kbit/s (then a segment, the least).
  CHECK(m.chunk_bytes(fast_b, 65'536) == 5000);
  CHECK(m.chunk_bytes(link(m, "slow", "ex-a"), 65'536) == segment_bytes);

  // Two nodes on one site: no hop, no delay.
  CHECK(m.chunk_bytes(link(m, "fast", "ex-a"), 65'536) == 65'536);
  Flow local;
  CHECK(m.send(link(m, "fast", "ex-a"), local, 5 * ms, 1 << 20).release_ns == 5 * ms);
}

TEST_CASE("flows through a hop share its bucket and a full queue drops until it has room") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  const LinkId a = link(m, "ex-a", "ex-b"), b = link(m, "fast", "ex-b");
  Flow fa, fb;
  // 50 kB chunks at 1 byte/us on both hops of node_1 -> node_0 -> node_2, alternating flows:
  // chunk k leaves the first hop at 50k ms. The queue holds 250 kB (250 ms at this rate): the
  // sixth finds exactly that ahead of it and is taken, the seventh is dropped.
  std::int64_t last = 0;
  for (int k = 1; k <= 6; ++k) {
    Flow& f = k % 2 ? fa : fb;
    const auto t = m.send(k % 2 ? a : b, f, 0, 50'000);
    REQUIRE_FALSE(t.dropped);
    CHECK(t.release_ns == k * 50 * ms + 1448'000 + 6 * ms);
    CHECK(t.release_ns > last);
    last = t.release_ns;
  }
  auto t = m.send(a, fa, 0, 50'000);  // 300 kB ahead
  CHECK(t.dropped);
  CHECK(t.release_ns == 50 * ms);  // when only 250 kB are ahead
  t = m.send(a, fa, 10 * ms, 50'000);
  CHECK(t.dropped);
  CHECK(t.release_ns == 50 * ms);
  t = m.send(a, fa, 50 * ms, 50'000);
  CHECK_FALSE(t.dropped);
  CHECK(t.release_ns == 350 * ms + 1448'000 + 6 * ms);  // straight behind the sixth
}

TEST_CASE("a flow's bytes never overtake each other under jitter") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  const LinkId id = link(m, "ex-a", "ex-b");
  LinkParams p;
  p.latency.kind = DistributionKind::uniform;
  p.latency.min_us = 0;
  p.latency.max_us = 10'000;
  REQUIRE(check(p).empty());
  m.set_params(id, p);
  CHECK(m.overridden(id));
  Flow flow;
  std::int64_t last = 0;
  double delay_sum = 0;
  bool some_held_back = false;
  const int n = 20'000;
  for (int i = 0; i < n; ++i) {
    const std::int64_t now = i * 100'000;  // every 100 us, far less than the jitter
    const auto t = m.send(id, flow, now, 100);
    CHECK(t.release_ns >= last);
    CHECK(t.release_ns >= now);
    some_held_back = some_held_back || t.release_ns == last;
    last = t.release_ns;
    delay_sum += static_cast<double>(t.release_ns - now);
  }
  CHECK(some_held_back);
  // Holding back raises the mean above the distribution's 5 ms, and never past its maximum.
  CHECK(delay_sum / n > 5e6);
  CHECK(delay_sum / n < 10e6);
}

TEST_CASE("a lost segment arrives a doubling timeout late and holds back what follows") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  const LinkId id = link(m, "ex-a", "ex-b");
  LinkParams p = constant_link(1000);
  p.loss.loss_good_ppm = 100'000;  // Bernoulli 10%
  p.rto_us = 1000;
  m.set_params(id, p);
  CHECK(m.params(id).rto_us == 1000);
  Flow flow;
  int late_once = 0, late_twice = 0;
  std::uint64_t lost = 0;
  const int n = 50'000;
  for (int i = 0; i < n; ++i) {
    const std::int64_t now = std::int64_t{i} * 100 * ms;  // far apart: nothing held back
    const auto t = m.send(id, flow, now, 1000);
    const std::int64_t late = t.release_ns - now - 1 * ms;
    lost += t.segments_lost;
    if (late == 1 * ms) ++late_once;   // lost once: one timeout
    if (late == 3 * ms) ++late_twice;  // lost twice: 1 + 2 timeouts
    CHECK((late == 0 || late == 1 * ms || late == 3 * ms || late >= 7 * ms));
  }
  CHECK(static_cast<double>(late_once) / n == Catch::Approx(0.09).margin(0.005));
  CHECK(static_cast<double>(late_twice) / n == Catch::Approx(0.009).margin(0.002));
  // Each transmission lost with 10%: 1/9 of the segments' transmissions per segment delivered.
  CHECK(static_cast<double>(lost) / n == Catch::Approx(1.0 / 9).margin(0.01));

  // A chunk of ten segments is as late as its latest segment; the next chunk waits for it.
  p.loss.loss_good_ppm = 500'000;
  m.set_params(id, p);
  Flow hol;
  const auto first = m.send(id, hol, 0, 10 * segment_bytes);
  CHECK(first.segments_lost > 0);
  CHECK(first.release_ns > 1 * ms);
  p.loss.loss_good_ppm = 0;
  m.set_params(id, p);
  const auto second = m.send(id, hol, 1000, 100);
  CHECK(second.release_ns == first.release_ns);
}

TEST_CASE("link parameters are checked") {
  LinkParams p = constant_link(-1);
  CHECK(check(p) == "latency must not be negative");
  p = constant_link(0);
  p.loss.loss_bad_ppm = 1'000'001;
  CHECK(check(p) == "a probability is at most 1000000 ppm");
  p = constant_link(0);
  p.loss.p_ppm = 10;
  p.loss.r_ppm = 0;
  CHECK_FALSE(check(p).empty());
  p = constant_link(0);
  p.bandwidth_kbps = -5;
  CHECK(check(p) == "bandwidth must not be negative");
  p = constant_link(0);
  p.latency.kind = DistributionKind::pareto;
  p.latency.scale_us = 10;
  CHECK_FALSE(check(p).empty());  // no shape
}

TEST_CASE("congestion slows the hops on the path and ends") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  mkt::scenario::Disruption d;
  d.type = mkt::scenario::DisruptionType::congestion;
  d.links = {{"node_0", "ex-b"}};  // a site and a node: the path node_0 -> node_2, both ways
  d.latency_multiplier_milli = 3000;
  d.bandwidth_reduction_ppm = 500'000;
  const LinkId id = link(m, "fast", "ex-b");
  m.congest(1, d, true);
  CHECK(m.params(id).latency.value_us == 1000 + 15'000);
  CHECK(m.params(id).bandwidth_kbps == 4000);
  CHECK(m.params(link(m, "ex-b", "fast")).latency.value_us == 16'000);
  CHECK(m.params(link(m, "fast", "slow")).latency.value_us == 1000 + 10'000);  // not on it
  m.congest(2, d, true);  // overlapping: both apply
  CHECK(m.params(id).latency.value_us == 1000 + 45'000);
  m.congest(1, d, false);
  m.congest(2, d, false);
  CHECK(m.params(id).latency.value_us == 6000);
  CHECK(m.params(id).bandwidth_kbps == 8000);
}

TEST_CASE("partitions cut links until healed and overlapping cuts add up") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  PartitionSpec isolate;
  isolate.shape = PartitionShape::isolate;
  isolate.nodes = {"node_1"};  // a site: ex-a and fast
  const auto p1 = m.partition(isolate, 5);
  REQUIRE(p1);
  CHECK(p1->id == "p1");
  CHECK(p1->cut.size() == 2 * 2 * 3);
  CHECK(m.cut(link(m, "ex-a", "ex-b")) == CutMode::blackhole);
  CHECK(m.cut(link(m, "ex-b", "fast")) == CutMode::blackhole);
  CHECK_FALSE(m.cut(link(m, "ex-a", "fast")));  // same side
  CHECK_FALSE(m.cut(link(m, "ex-b", "slow")));

  PartitionSpec split;
  split.groups = {{"ex-a"}, {"ex-b"}};
  split.mode = CutMode::reset;
  split.one_way = true;
  const auto p2 = m.partition(split, 6);
  REQUIRE(p2);
  CHECK(p2->cut.size() == 1);
  CHECK(m.cut(link(m, "ex-a", "ex-b")) == CutMode::reset);  // reset wins
  CHECK(m.cut(link(m, "ex-b", "ex-a")) == CutMode::blackhole);
  CHECK(m.partitions().size() == 2);

  auto freed = m.heal("p1");
  CHECK(freed.size() == 12);
  CHECK(m.cut(link(m, "ex-a", "ex-b")) == CutMode::reset);  // p2 still holds it
  CHECK_FALSE(m.cut(link(m, "ex-b", "ex-a")));
  CHECK(m.heal("p9").empty());
  CHECK(m.heal("").size() == 1);
  CHECK_FALSE(m.cut(link(m, "ex-a", "ex-b")));
  CHECK(m.partitions().empty());

  // A bad spec changes nothing.
  PartitionSpec bad;
  bad.shape = PartitionShape::isolate;
  bad.nodes = {"ex-a", "nobody"};
  CHECK(m.partition(bad, 7).error() == "unknown node or site 'nobody'");
  bad.shape = PartitionShape::groups;
  bad.groups = {{"ex-a"}, {"ex-a", "ex-b"}};
  CHECK(m.partition(bad, 7).error() == "node 'ex-a' is in two groups");
  bad.groups = {{"ex-a"}};
  CHECK_FALSE(m.partition(bad, 7));
  CHECK(m.partitions().empty());
  CHECK_FALSE(m.cut(link(m, "ex-a", "ex-b")));
}

TEST_CASE("partition shapes: halves, bridge and a majorities ring") {
  const auto scenario = load(star_yaml);
  const auto nodes = LinkModel::build(scenario).nodes();  // five nodes
  PartitionSpec spec;
  spec.shape = PartitionShape::halves;
  spec.seed = 3;
  auto cut = cut_pairs(spec, scenario, nodes);
  REQUIRE(cut);
  CHECK(cut->size() == 2 * 2 * 3);                 // 2 against 3, both ways
  CHECK(cut_pairs(spec, scenario, nodes) == cut);  // the same seed, the same halves
  spec.one_way = true;
  CHECK(cut_pairs(spec, scenario, nodes)->size() == 6);

  spec = {};
  spec.shape = PartitionShape::bridge;
  spec.seed = 3;
  cut = cut_pairs(spec, scenario, nodes);
  REQUIRE(cut);
  CHECK(cut->size() == 2 * 2 * 2);  // the bridge node and two halves of two
  std::set<std::string> touched;
  for (const auto& [a, b] : *cut) touched.insert(a);
  CHECK(touched.size() == 4);

  spec = {};
  spec.shape = PartitionShape::majorities_ring;
  spec.seed = 11;
  cut = cut_pairs(spec, scenario, nodes);
  REQUIRE(cut);
  // Each of five nodes sees itself and one neighbour on each side: three, a majority.
  std::map<std::string, std::set<std::string>> seen;
  for (const auto& a : nodes) {
    for (const auto& b : nodes) seen[a].insert(b);
  }
  for (const auto& [a, b] : *cut) seen[a].erase(b);
  std::set<std::set<std::string>> distinct;
  for (const auto& [node, visible] : seen) {
    CHECK(visible.size() == 3);
    distinct.insert(visible);
  }
  CHECK(distinct.size() == 5);
  spec.one_way = true;
  CHECK_FALSE(cut_pairs(spec, scenario, nodes));
}

TEST_CASE("a region cut off in the reference network, and the disruptions' partitions") {
  const auto scenario = reference();
  LinkModel m = LinkModel::build(scenario);
  PartitionSpec spec;
  spec.shape = PartitionShape::region;
  spec.region = "us_west";
  const auto p = m.partition(spec, 0);
  REQUIRE(p);
  std::size_t inside = 0;
  for (const auto& id : m.nodes()) {
    const auto* node = scenario.find_node(id);
    const auto* region = scenario.topology().find_region("us_west");
    if (std::find(region->sites.begin(), region->sites.end(), node->site) != region->sites.end())
      ++inside;
  }
  REQUIRE(inside > 0);
  CHECK(p->cut.size() == 2 * inside * (m.nodes().size() - inside));
  spec.region = "atlantis";
  CHECK(m.partition(spec, 0).error().starts_with("unknown region 'atlantis'"));

  std::size_t partitions = 0;
  for (const auto& d : scenario.disruptions) {
    const auto made = partition_of(d);
    if (d.type == mkt::scenario::DisruptionType::node_failure) {
      REQUIRE(made);
      CHECK(made->mode == CutMode::reset);
      CHECK(made->nodes == std::vector<std::string>{d.target});
      CHECK(made->duration_ms == d.duration_ms + d.recovery_ms);
      CHECK(m.partition(*made, 0));  // its target (a site) resolves
    }
    if (made) ++partitions;
  }
  // The reference file's regional outage has a multiplier: congestion, not a cut.
  CHECK(partitions == 1);
}

TEST_CASE("reset drops overrides and heals partitions") {
  const auto scenario = load(star_yaml);
  LinkModel m = LinkModel::build(scenario);
  const LinkId id = link(m, "ex-a", "ex-b");
  LinkParams p = constant_link(50'000);
  p.bandwidth_kbps = 1000;
  m.set_params(id, p);
  CHECK(m.params(id).latency.value_us == 50'000);
  CHECK(m.params(id).queue_bytes == 64 * 1024);  // 250 ms of 1 Mbit/s is less than the minimum
  CHECK(m.params(id).rto_us == 300'000);
  PartitionSpec spec;
  spec.groups = {{"ex-a"}, {"ex-b"}};
  REQUIRE(m.partition(spec, 0));
  CHECK(m.reset().size() == 2);
  CHECK_FALSE(m.overridden(id));
  CHECK(m.params(id).latency.value_us == 6000);
  CHECK_FALSE(m.cut(id));
}
