#include "mkt/netmodel/network.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <queue>
#include <tuple>

#include "mkt/netmodel/delay.h"
#include "mkt/netmodel/geo.h"
#include "mkt/netmodel/random.h"

namespace mkt::netmodel {

using scenario::TopologyType;

namespace {

scenario::LinkSpec with_latency(const scenario::LinkSpec& base, std::int64_t latency_us) {
  scenario::LinkSpec spec = base;
  spec.latency = {};
  spec.latency.kind = scenario::DistributionKind::constant;
  spec.latency.value_us = latency_us;
  return spec;
}

// Union-find over sites, for joining the components of a random graph.
struct Components {
  std::vector<SiteIndex> parent;
  explicit Components(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  SiteIndex find(SiteIndex x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(SiteIndex a, SiteIndex b) { parent[find(a)] = find(b); }
};

}  // namespace

std::optional<SiteIndex> Network::site_index(std::string_view name) const {
  const auto it = std::find(sites_.begin(), sites_.end(), name);
  if (it == sites_.end()) return std::nullopt;
  return static_cast<SiteIndex>(it - sites_.begin());
}

std::optional<HopIndex> Network::hop_between(SiteIndex from, SiteIndex to) const {
  for (HopIndex h : out_[from]) {
    if (hops_[h].to == to) return h;
  }
  return std::nullopt;
}

void Network::link(SiteIndex a, SiteIndex b, const scenario::LinkSpec& spec, bool both_ways) {
  for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    if (const auto h = hop_between(from, to)) {
      hops_[*h].spec = spec;
    } else {
      out_[from].push_back(hops_.size());
      hops_.push_back({from, to, spec});
    }
    if (!both_ways) break;
  }
}

Network Network::build(const scenario::Topology& t, std::uint64_t seed) {
  Network n;
  n.sites_ = t.sites;
  n.out_.resize(n.sites_.size());
  const std::size_t count = n.sites_.size();
  switch (t.type) {
    case TopologyType::star: {
      const SiteIndex center = *n.site_index(t.central_site);
      for (SiteIndex s = 0; s < count; ++s) {
        if (s != center) n.link(center, s, t.link);
      }
      break;
    }
    case TopologyType::ring:
      for (SiteIndex s = 0; s < count; ++s) n.link(s, (s + 1) % count, t.link);
      break;
    case TopologyType::mesh:
      for (SiteIndex a = 0; a < count; ++a) {
        for (SiteIndex b = a + 1; b < count; ++b) n.link(a, b, t.link);
      }
      break;
    case TopologyType::hierarchical:
      for (SiteIndex s = 1; s < count; ++s) n.link((s - 1) / t.fanout, s, t.link);
      break;
    case TopologyType::random: {
      Rng rng(seed);
      Components components(count);
      for (SiteIndex a = 0; a < count; ++a) {
        for (SiteIndex b = a + 1; b < count; ++b) {
          if (chance_ppm(rng, t.edge_probability_ppm)) {
            n.link(a, b, t.link);
            components.join(a, b);
          }
        }
      }
      SiteIndex previous = 0;
      for (SiteIndex s = 1; s < count; ++s) {
        if (components.find(s) != components.find(previous)) {
          n.link(previous, s, t.link);
          components.join(previous, s);
        }
        previous = s;
      }
      break;
    }
    case TopologyType::geographic: {
      const scenario::LinkSpec intra =
          with_latency(t.link, t.intra_region_latency_us + t.per_hop_us);
      std::vector<SiteIndex> gateways;
      for (const scenario::Region& region : t.regions) {
        std::vector<SiteIndex> members;
        for (const auto& site : region.sites) members.push_back(*n.site_index(site));
        for (std::size_t i = 0; i < members.size(); ++i) {
          for (std::size_t j = i + 1; j < members.size(); ++j)
            n.link(members[i], members[j], intra);
        }
        gateways.push_back(members.empty() ? 0 : members.front());
      }
      for (std::size_t i = 0; i < t.regions.size(); ++i) {
        for (std::size_t j = i + 1; j < t.regions.size(); ++j) {
          const auto& a = t.regions[i];
          const auto& b = t.regions[j];
          const auto key = a.name < b.name ? std::pair{a.name, b.name} : std::pair{b.name, a.name};
          const auto declared = t.inter_region_latency_us.find(key);
          const std::int64_t latency =
              declared != t.inter_region_latency_us.end()
                  ? declared->second + t.per_hop_us
                  : fibre_latency_us(great_circle_m(a.latitude_deg, a.longitude_deg, b.latitude_deg,
                                                    b.longitude_deg),
                                     t.route_factor_milli, t.per_hop_us);
          n.link(gateways[i], gateways[j], with_latency(t.link, latency));
        }
      }
      break;
    }
    case TopologyType::explicit_links:
      break;
  }
  for (const scenario::ExplicitLink& l : t.links) {
    n.link(*n.site_index(l.from), *n.site_index(l.to), l.spec, l.bidirectional);
  }
  return n;
}

std::optional<Route> Network::route(SiteIndex from, SiteIndex to) const {
  // Dijkstra on (mean latency, hops, site): the order makes ties deterministic.
  using Key = std::tuple<double, std::size_t, SiteIndex>;
  const std::size_t count = sites_.size();
  std::vector<Key> best(count, Key{std::numeric_limits<double>::infinity(), 0, 0});
  std::vector<std::optional<HopIndex>> via(count);
  std::priority_queue<Key, std::vector<Key>, std::greater<>> queue;
  best[from] = {0.0, 0, from};
  queue.push(best[from]);
  while (!queue.empty()) {
    const auto [latency, hop_count, site] = queue.top();
    queue.pop();
    if (Key{latency, hop_count, site} != best[site]) continue;
    if (site == to) break;
    for (HopIndex h : out_[site]) {
      const Hop& hop = hops_[h];
      const Key next{latency + mean_delay_us(hop.spec.latency), hop_count + 1, hop.to};
      if (next < best[hop.to]) {
        best[hop.to] = next;
        via[hop.to] = h;
        queue.push(next);
      }
    }
  }
  if (std::get<0>(best[to]) == std::numeric_limits<double>::infinity()) return std::nullopt;
  Route route;
  route.mean_latency_us = std::get<0>(best[to]);
  double delivered = 1.0;
  for (SiteIndex s = to; s != from; s = hops_[*via[s]].from) {
    const Hop& hop = hops_[*via[s]];
    route.hops.push_back(*via[s]);
    if (hop.spec.bandwidth_kbps > 0 &&
        (route.bandwidth_kbps == 0 || hop.spec.bandwidth_kbps < route.bandwidth_kbps)) {
      route.bandwidth_kbps = hop.spec.bandwidth_kbps;
    }
    delivered *= 1.0 - static_cast<double>(hop.spec.loss_ppm) / 1e6;
  }
  std::reverse(route.hops.begin(), route.hops.end());
  route.sites.push_back(from);
  for (HopIndex h : route.hops) route.sites.push_back(hops_[h].to);
  route.loss = 1.0 - delivered;
  return route;
}

}  // namespace mkt::netmodel
