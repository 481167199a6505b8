#pragma once
// The network graph of a scenario's topology, and the routes through it.
//
// Sites are the vertices (scenario::Topology::sites); hops are directed edges with their link
// spec (latency distribution, bandwidth, loss). How each topology type is wired:
//   star: the central site to every other; ring: each site to the next, and the last to the
//   first; mesh: every pair; hierarchical: a tree, site i's parent is (i - 1) / fanout;
//   random: each pair with edge_probability, drawn from the scenario seed, then the components
//   joined (each component's first site to the first site of the component before it) so every
//   site is reachable; geographic: every pair of sites within a region at the intra-region
//   latency, and the first sites of every two regions at the declared inter-region latency, or
//   else at great-circle fibre latency, each plus per-hop processing; explicit: the links given.
// For every type but explicit, `links` then replace the hop between two sites (or add one).
//
// A route is the path of least mean latency (ties: fewer hops, then lower site numbers, so it is
// deterministic); its latency is the sum of its hops', its bandwidth their minimum, its loss
// 1 - prod(1 - loss).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/scenario/scenario.h"

namespace mkt::netmodel {

using SiteIndex = std::size_t;
using HopIndex = std::size_t;

struct Hop {
  SiteIndex from = 0;
  SiteIndex to = 0;
  scenario::LinkSpec spec;
};

struct Route {
  std::vector<SiteIndex> sites;  // from first, to last
  std::vector<HopIndex> hops;
  double mean_latency_us = 0;
  std::int64_t bandwidth_kbps = 0;  // 0: unlimited
  double loss = 0;                  // probability per segment
};

class Network {
 public:
  static Network build(const scenario::Topology& topology, std::uint64_t seed);

  const std::vector<std::string>& sites() const { return sites_; }
  std::optional<SiteIndex> site_index(std::string_view name) const;
  const std::vector<Hop>& hops() const { return hops_; }
  // The hop from `from` to `to`, if they are adjacent.
  std::optional<HopIndex> hop_between(SiteIndex from, SiteIndex to) const;
  // Null when `to` cannot be reached from `from`. A site to itself is a route of no hops.
  std::optional<Route> route(SiteIndex from, SiteIndex to) const;

 private:
  // Adds the hop, or replaces the spec of the one already there; both ways when asked.
  void link(SiteIndex a, SiteIndex b, const scenario::LinkSpec& spec, bool both_ways = true);

  std::vector<std::string> sites_;
  std::vector<Hop> hops_;
  std::vector<std::vector<HopIndex>> out_;  // hops leaving each site
};

}  // namespace mkt::netmodel
