#include "mkt/netmodel/partition.h"

#include <algorithm>
#include <functional>
#include <set>

#include "mkt/netmodel/random.h"

namespace mkt::netmodel {

namespace {

using Names = std::vector<std::string>;

// The linked nodes a name stands for: the node itself, or every node on the site.
std::expected<Names, std::string> resolve(const std::string& name,
                                          const scenario::Scenario& scenario, const Names& nodes) {
  if (std::find(nodes.begin(), nodes.end(), name) != nodes.end()) return Names{name};
  if (scenario.topology().has_site(name)) {
    Names on_site;
    for (const auto& id : nodes) {
      const auto* node = scenario.find_node(id);
      if (node != nullptr && node->site == name) on_site.push_back(id);
    }
    return on_site;
  }
  return std::unexpected("unknown node or site '" + name + "'");
}

std::expected<Names, std::string> resolve_all(const Names& names,
                                              const scenario::Scenario& scenario,
                                              const Names& nodes) {
  Names out;
  for (const auto& name : names) {
    auto resolved = resolve(name, scenario, nodes);
    if (!resolved) return resolved;
    for (auto& id : *resolved) {
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
    }
  }
  return out;
}

void shuffle(Names& names, std::uint64_t seed) {
  Rng rng(seed);
  for (std::size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[rng() % i]);
}

bool contains(const Names& names, const std::string& id) {
  return std::find(names.begin(), names.end(), id) != names.end();
}

}  // namespace

std::expected<std::vector<NodePair>, std::string> cut_pairs(const PartitionSpec& spec,
                                                            const scenario::Scenario& scenario,
                                                            const Names& nodes) {
  // Each shape comes down to: which side a node is on (sides never see each other; nodes on no
  // side see everyone), or for the ring, who sees whom.
  std::function<int(const std::string&)> side = [](const std::string&) { return -1; };
  std::function<bool(const std::string&, const std::string&)> sees;
  std::vector<Names> sides;
  switch (spec.shape) {
    case PartitionShape::groups: {
      if (spec.groups.size() < 2) return std::unexpected("a partition needs at least two groups");
      for (const auto& group : spec.groups) {
        auto resolved = resolve_all(group, scenario, nodes);
        if (!resolved) return std::unexpected(resolved.error());
        for (const auto& id : *resolved) {
          for (const auto& other : sides) {
            if (contains(other, id)) return std::unexpected("node '" + id + "' is in two groups");
          }
        }
        sides.push_back(std::move(*resolved));
      }
      break;
    }
    case PartitionShape::isolate:
    case PartitionShape::region: {
      Names first;
      if (spec.shape == PartitionShape::isolate) {
        auto resolved = resolve_all(spec.nodes, scenario, nodes);
        if (!resolved) return std::unexpected(resolved.error());
        first = std::move(*resolved);
      } else {
        const auto* region = scenario.topology().find_region(spec.region);
        if (region == nullptr) {
          return std::unexpected("unknown region '" + spec.region + "' in topology '" +
                                 scenario.active_topology + "'");
        }
        auto resolved = resolve_all(region->sites, scenario, nodes);
        if (!resolved) return std::unexpected(resolved.error());
        first = std::move(*resolved);
      }
      if (first.empty()) return std::unexpected("the partition cuts off no node");
      Names rest;
      for (const auto& id : nodes) {
        if (!contains(first, id)) rest.push_back(id);
      }
      sides = {std::move(first), std::move(rest)};
      break;
    }
    case PartitionShape::halves:
    case PartitionShape::bridge:
    case PartitionShape::majorities_ring: {
      Names pool = nodes;
      if (!spec.nodes.empty()) {
        auto resolved = resolve_all(spec.nodes, scenario, nodes);
        if (!resolved) return std::unexpected(resolved.error());
        pool = std::move(*resolved);
      }
      const std::size_t needed = spec.shape == PartitionShape::halves ? 2 : 3;
      if (pool.size() < needed) {
        return std::unexpected("this shape needs at least " + std::to_string(needed) + " nodes");
      }
      shuffle(pool, spec.seed);
      if (spec.shape == PartitionShape::majorities_ring) {
        if (spec.one_way) return std::unexpected("a majorities ring is two-way only");
        const std::size_t n = pool.size();
        // Seeing k neighbours on each side is 2k + 1 nodes: a majority when k = (n / 2 + 1) / 2.
        const std::size_t reach = (n / 2 + 1) / 2;
        sees = [pool, n, reach](const std::string& a, const std::string& b) {
          const auto ia =
              static_cast<std::size_t>(std::find(pool.begin(), pool.end(), a) - pool.begin());
          const auto ib =
              static_cast<std::size_t>(std::find(pool.begin(), pool.end(), b) - pool.begin());
          if (ia == n || ib == n) return true;  // outside the ring
          const std::size_t d = ia > ib ? ia - ib : ib - ia;
          return std::min(d, n - d) <= reach;
        };
        break;
      }
      const std::size_t start = spec.shape == PartitionShape::bridge ? 1 : 0;
      const std::size_t middle = start + (pool.size() - start) / 2;
      sides = {Names(pool.begin() + static_cast<std::ptrdiff_t>(start),
                     pool.begin() + static_cast<std::ptrdiff_t>(middle)),
               Names(pool.begin() + static_cast<std::ptrdiff_t>(middle), pool.end())};
      break;
    }
  }
  if (!sees) {
    side = [&sides](const std::string& id) {
      for (std::size_t s = 0; s < sides.size(); ++s) {
        if (contains(sides[s], id)) return static_cast<int>(s);
      }
      return -1;
    };
    sees = [&side](const std::string& a, const std::string& b) {
      const int sa = side(a), sb = side(b);
      return sa < 0 || sb < 0 || sa == sb;
    };
  }
  std::vector<NodePair> cut;
  for (const auto& a : nodes) {
    for (const auto& b : nodes) {
      if (a == b || sees(a, b)) continue;
      if (spec.one_way && side(a) != 0) continue;
      cut.emplace_back(a, b);
    }
  }
  return cut;
}

std::optional<PartitionSpec> partition_of(const scenario::Disruption& d) {
  PartitionSpec spec;
  spec.duration_ms = d.duration_ms;
  switch (d.type) {
    case scenario::DisruptionType::congestion:
      return std::nullopt;
    case scenario::DisruptionType::node_failure:
      spec.shape = PartitionShape::isolate;
      spec.mode = CutMode::reset;
      spec.nodes = {d.target};
      spec.duration_ms = d.duration_ms + d.recovery_ms;
      return spec;
    case scenario::DisruptionType::regional_outage:
      if (d.latency_multiplier_milli != 1000) return std::nullopt;
      spec.shape = PartitionShape::region;
      spec.region = d.region;
      return spec;
    case scenario::DisruptionType::partition:
      spec.groups = d.groups;
      spec.one_way = d.one_way;
      spec.mode = d.reset ? CutMode::reset : CutMode::blackhole;
      return spec;
  }
  return std::nullopt;
}

}  // namespace mkt::netmodel
