#pragma once
// Partitions: which directed pairs of nodes a cut separates, from explicit groups or a named
// shape (the shapes of Jepsen's nemeses), and the partitions a scenario's timed disruptions make.
//
// Names in a spec are node ids or sites (a site means every node placed on it). Shapes:
//   groups: nodes in different groups cannot reach each other; nodes in no group are untouched.
//   isolate: `nodes` against every other node.
//   halves: `nodes` (default: every node) shuffled by `seed` and split in two halves.
//   bridge: the same, with one node (the first after shuffling) that sees both halves.
//   majorities_ring: the nodes in a shuffled ring, each seeing its nearest neighbours on both
//     sides so that it sees a majority, and no two nodes the same majority (two-way only).
//   region: every node on a site of `region` against every other node.
// one_way cuts only the traffic from the first side (the first group, `nodes`, the first half,
// the region) to the others; the way back stays open.

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mkt/scenario/scenario.h"

namespace mkt::netmodel {

enum class CutMode {
  blackhole,  // bytes are held, and delivered when the partition heals
  reset,      // connections across the cut are reset and new ones refused
};

enum class PartitionShape { groups, isolate, halves, bridge, majorities_ring, region };

struct PartitionSpec {
  PartitionShape shape = PartitionShape::groups;
  CutMode mode = CutMode::blackhole;
  std::vector<std::string> nodes;
  std::vector<std::vector<std::string>> groups;
  std::string region;
  bool one_way = false;
  std::int64_t duration_ms = 0;  // 0: until healed
  std::uint64_t seed = 0;
};

using NodePair = std::pair<std::string, std::string>;  // (source, destination)

// The directed pairs the spec cuts among `nodes` (the nodes that have links, in a fixed order),
// or what is wrong with the spec (an unknown name, a node in two groups, too few nodes).
std::expected<std::vector<NodePair>, std::string> cut_pairs(const PartitionSpec& spec,
                                                            const scenario::Scenario& scenario,
                                                            const std::vector<std::string>& nodes);

// The partition a timed disruption makes while it lasts: a node failure cuts its target off
// (reset, as a crashed host would, for duration plus recovery time); a regional outage without a
// latency multiplier cuts the region off (black hole); a partition its groups. Congestion, and
// an outage with a multiplier, make none (they slow hops down instead; see LinkModel::congest).
std::optional<PartitionSpec> partition_of(const scenario::Disruption& disruption);

}  // namespace mkt::netmodel
