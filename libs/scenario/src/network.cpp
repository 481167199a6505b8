// Topologies and links.
#include <algorithm>
#include <cmath>

#include "sections.h"

namespace mkt::scenario::detail {
namespace {

std::vector<std::string> numbered_sites(std::int64_t count) {
  std::vector<std::string> sites;
  for (std::int64_t i = 0; i < count; ++i) sites.push_back("node_" + std::to_string(i));
  return sites;
}

// latency_params for one distribution kind.
Distribution read_distribution(Diagnostics& d, const YAML::Node& node, const std::string& path,
                               DistributionKind kind) {
  Distribution dist;
  dist.kind = kind;
  constexpr int us = 3;  // the params are in ms, kept in us
  const auto max = latency_us_max;
  switch (kind) {
    case DistributionKind::constant: {
      MapReader p(d, node, path, {"value_ms"});
      dist.value_us = p.scaled("value_ms", us, 0, max, true).value_or(0);
      break;
    }
    case DistributionKind::uniform: {
      MapReader p(d, node, path, {"min_ms", "max_ms"});
      dist.min_us = p.scaled("min_ms", us, 0, max, true).value_or(0);
      dist.max_us = p.scaled("max_ms", us, 0, max, true).value_or(0);
      if (dist.max_us < dist.min_us) d.error(node, path, "max_ms must not be below min_ms");
      break;
    }
    case DistributionKind::normal: {
      MapReader p(d, node, path, {"mean_ms", "std_ms"});
      dist.mean_us = p.scaled("mean_ms", us, 0, max, true).value_or(0);
      dist.std_us = p.scaled("std_ms", us, 0, max, true).value_or(0);
      break;
    }
    case DistributionKind::exponential: {
      MapReader p(d, node, path, {"scale_ms", "min_ms"});
      dist.scale_us = p.scaled("scale_ms", us, 1, max, true).value_or(1);
      dist.min_us = p.scaled_or("min_ms", us, 0, 0, max);
      break;
    }
    case DistributionKind::pareto: {
      MapReader p(d, node, path, {"scale_ms", "shape", "min_ms"});
      dist.scale_us = p.scaled("scale_ms", us, 1, max, true).value_or(1);
      dist.shape_milli = p.scaled("shape", 3, 1, 100'000, true).value_or(1000);
      dist.min_us = p.scaled_or("min_ms", us, 0, 0, max);
      break;
    }
  }
  return dist;
}

void read_geographic(const MapReader& map, Topology& t) {
  Diagnostics& d = map.diagnostics();
  const YAML::Node regions = map.child("regions", true);
  if (regions.IsDefined() && (!regions.IsSequence() || regions.size() == 0)) {
    d.error(regions, map.path_of("regions"), "expected a non-empty list of regions");
  } else if (regions.IsDefined()) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < regions.size(); ++i) {
      MapReader r(d, regions[i], map.path_of("regions") + "[" + std::to_string(i) + "]",
                  {"name", "nodes", "coordinates"});
      Region region;
      region.name = r.text("name", "", true);
      if (!region.name.empty() && !names.insert(region.name).second) {
        d.error(r.child("name"), r.path_of("name"), "region '" + region.name + "' declared twice");
      }
      const auto count = r.integer("nodes", 1, count_max, true).value_or(0);
      const YAML::Node coords = r.child("coordinates", true);
      if (coords.IsDefined()) {
        if (!coords.IsSequence() || coords.size() != 2) {
          d.error(coords, r.path_of("coordinates"), "expected [latitude, longitude]");
        } else {
          const auto lat = read_scaled(d, coords[0], r.path_of("coordinates") + "[0]", 6,
                                       -90'000'000, 90'000'000);
          const auto lon = read_scaled(d, coords[1], r.path_of("coordinates") + "[1]", 6,
                                       -180'000'000, 180'000'000);
          region.latitude_deg = static_cast<double>(lat.value_or(0)) / 1e6;
          region.longitude_deg = static_cast<double>(lon.value_or(0)) / 1e6;
        }
      }
      for (std::int64_t k = 0; k < count; ++k) {
        region.sites.push_back("node_" + std::to_string(t.sites.size()));
        t.sites.push_back(region.sites.back());
      }
      t.regions.push_back(std::move(region));
    }
  }
  std::set<std::string> region_names;
  for (const auto& r : t.regions) region_names.insert(r.name);
  const YAML::Node latencies = map.child("inter_region_latency");
  if (latencies.IsDefined() && !latencies.IsMap()) {
    d.error(latencies, map.path_of("inter_region_latency"), "expected a mapping of region pairs");
  }
  if (latencies.IsMap()) {
    for (const auto& entry : latencies) {
      const std::string key = entry.first.Scalar();
      const std::string path = map.path_of("inter_region_latency") + "." + key;
      auto pair = split_pair(key, '_', region_names);
      if (!pair) {
        d.error(entry.first, path,
                "expected two region names joined by '_' (regions: " +
                    one_of({region_names.begin(), region_names.end()}) + ")");
        continue;
      }
      if (pair->first == pair->second) {
        d.error(entry.first, path, "a region pair needs two different regions");
        continue;
      }
      if (pair->second < pair->first) std::swap(pair->first, pair->second);
      const auto value = read_scaled(d, entry.second, path, 3, 0, latency_us_max);
      if (value) t.inter_region_latency_us[*pair] = *value;
    }
  }
  t.intra_region_latency_us = map.scaled_or("intra_region_latency_ms", 3, 1000, 0, latency_us_max);
  t.per_hop_us = map.scaled_or("per_hop_ms", 3, 100, 0, latency_us_max);
  t.route_factor_milli =
      static_cast<std::uint32_t>(map.scaled_or("route_factor", 3, 1500, 1000, 10'000));
}

void read_links(const MapReader& map, Topology& t) {
  Diagnostics& d = map.diagnostics();
  const YAML::Node links = map.child("links", t.type == TopologyType::explicit_links);
  if (!links.IsDefined()) return;
  if (!links.IsSequence()) {
    d.error(links, map.path_of("links"), "expected a list of links");
    return;
  }
  for (std::size_t i = 0; i < links.size(); ++i) {
    MapReader l(d, links[i], map.path_of("links") + "[" + std::to_string(i) + "]",
                {"from", "to", "latency_ms", "latency_distribution", "latency_params",
                 "bandwidth_kbps", "packet_loss_rate", "bidirectional"});
    ExplicitLink link;
    link.from = l.text("from", "", true);
    link.to = l.text("to", "", true);
    link.spec = read_link_spec(l, t.type == TopologyType::explicit_links);
    link.bidirectional = l.boolean("bidirectional", true);
    link.line = l.line();
    if (!link.from.empty() && link.from == link.to) {
      d.error(l.node(), l.path(), "a link needs two different ends");
    }
    t.links.push_back(std::move(link));
  }
  if (t.type == TopologyType::explicit_links) {
    std::set<std::string> seen;
    for (const auto& link : t.links) {
      for (const auto& end : {link.from, link.to}) {
        if (!end.empty() && seen.insert(end).second) t.sites.push_back(end);
      }
    }
  }
}

// A key that only another type of topology uses is a mistake, not something to ignore.
void reject_keys_of_other_types(const MapReader& map, TopologyType type) {
  using T = TopologyType;
  const std::vector<std::pair<std::string_view, std::vector<T>>> owners = {
      {"num_nodes", {T::star, T::ring, T::mesh, T::hierarchical, T::random}},
      {"central_node", {T::star}},
      {"fanout", {T::hierarchical}},
      {"edge_probability", {T::random}},
      {"regions", {T::geographic}},
      {"inter_region_latency", {T::geographic}},
      {"intra_region_latency_ms", {T::geographic}},
      {"per_hop_ms", {T::geographic}},
      {"route_factor", {T::geographic}},
  };
  for (const auto& [key, types] : owners) {
    if (map.has(key) && std::find(types.begin(), types.end(), type) == types.end()) {
      map.diagnostics().error(
          map.child(key), map.path_of(key),
          std::string(key) + " is not used by a " + std::string(to_string(type)) + " topology");
    }
  }
}

}  // namespace

LinkSpec read_link_spec(const MapReader& map, bool latency_required) {
  Diagnostics& d = map.diagnostics();
  LinkSpec spec;
  const bool has_constant = map.has("latency_ms");
  const bool has_distribution = map.has("latency_distribution");
  if (has_constant && has_distribution) {
    d.error(map.node(), map.path(), "give latency_ms or latency_distribution, not both");
  } else if (has_distribution) {
    const auto kind = map.choice("latency_distribution", distribution_names, "distribution");
    const YAML::Node params = map.child("latency_params", true);
    if (kind && params.IsDefined()) {
      spec.latency = read_distribution(d, params, map.path_of("latency_params"), *kind);
    }
  } else if (has_constant) {
    spec.latency.value_us = map.scaled("latency_ms", 3, 0, latency_us_max).value_or(0);
  } else if (latency_required) {
    d.error(map.node(), map.path(), "missing latency_ms or latency_distribution");
  }
  if (map.has("latency_params") && !has_distribution) {
    d.error(map.child("latency_params"), map.path_of("latency_params"),
            "latency_params needs latency_distribution");
  }
  spec.bandwidth_kbps = map.integer_or("bandwidth_kbps", 0, 1, bandwidth_kbps_max);
  spec.loss_ppm = static_cast<std::uint32_t>(map.scaled_or("packet_loss_rate", 6, 0, 0, 999'999));
  return spec;
}

Topology read_topology(Diagnostics& d, const YAML::Node& node, const std::string& path,
                       const std::string& name) {
  MapReader map(
      d, node, path,
      {"type", "num_nodes", "central_node", "fanout", "edge_probability", "latency_ms",
       "latency_distribution", "latency_params", "bandwidth_kbps", "packet_loss_rate", "regions",
       "inter_region_latency", "intra_region_latency_ms", "per_hop_ms", "route_factor", "links"});
  Topology t;
  t.name = name;
  const auto type = map.choice("type", topology_type_names, "topology type", true);
  if (!type) return t;
  t.type = *type;
  const bool generated =
      t.type != TopologyType::geographic && t.type != TopologyType::explicit_links;
  if (generated) {
    const std::int64_t min_nodes = t.type == TopologyType::ring ? 3 : 2;
    t.sites = numbered_sites(
        map.integer("num_nodes", min_nodes, static_cast<std::int64_t>(sites_max), true)
            .value_or(0));
  }
  reject_keys_of_other_types(map, t.type);
  t.link = read_link_spec(map, generated);
  if (t.type == TopologyType::star) {
    t.central_site = map.text("central_node", "node_0");
    if (!t.sites.empty() && !t.has_site(t.central_site)) {
      d.error(map.child("central_node"), map.path_of("central_node"),
              "'" + t.central_site + "' is not a node of this topology (node_0 to node_" +
                  std::to_string(t.sites.size() - 1) + ")");
    }
  }
  if (t.type == TopologyType::hierarchical) {
    t.fanout = static_cast<std::uint32_t>(map.integer_or("fanout", 3, 1, 64));
  }
  if (t.type == TopologyType::random) {
    t.edge_probability_ppm = static_cast<std::uint32_t>(
        map.scaled("edge_probability", 6, 1, 1'000'000, true).value_or(1));
  }
  if (t.type == TopologyType::geographic) read_geographic(map, t);
  read_links(map, t);
  if (t.sites.size() > sites_max) {
    d.error(node, path, "more than " + std::to_string(sites_max) + " sites");
  }
  // Overrides must name sites of this topology (explicit ones define them).
  if (t.type != TopologyType::explicit_links) {
    for (const auto& link : t.links) {
      for (const auto& end : {link.from, link.to}) {
        if (!end.empty() && !t.has_site(end)) {
          d.error(link.line, path + ".links", "'" + end + "' is not a node of this topology");
        }
      }
    }
  }
  return t;
}

}  // namespace mkt::scenario::detail
