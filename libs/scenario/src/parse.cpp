// The top level of a scenario file: sections, node placement, and the checks across sections.
#include <algorithm>

#include "mkt/core/ids.h"
#include "sections.h"

namespace mkt::scenario {
namespace {

using detail::Diagnostics;
using detail::MapReader;

// Places nodes on the active topology's sites: where a node names a site or a region it goes
// there (round-robin within the region); otherwise round-robin over all sites in order.
class Placer {
 public:
  Placer(Diagnostics& d, const Topology* topology) : d_(&d), topology_(topology) {}

  std::string next_site() {
    if (!topology_ || topology_->sites.empty()) return "";
    return topology_->sites[next_++ % topology_->sites.size()];
  }

  std::string place(const MapReader& map) {
    if (!topology_ || topology_->sites.empty()) return "";
    if (map.has("site") && map.has("region")) {
      d_->error(map.node(), map.path(), "give site or region, not both");
    }
    if (map.has("site")) {
      std::string site = map.text("site", "");
      if (!topology_->has_site(site)) {
        d_->error(map.child("site"), map.path_of("site"),
                  "unknown site '" + site + "' in topology '" + topology_->name + "'");
      }
      return site;
    }
    if (map.has("region")) {
      const std::string name = map.text("region", "");
      const Region* region = topology_->find_region(name);
      if (!region || region->sites.empty()) {
        std::vector<std::string> names;
        for (const auto& r : topology_->regions) names.push_back(r.name);
        d_->error(map.child("region"), map.path_of("region"),
                  "unknown region '" + name + "' in topology '" + topology_->name +
                      "' (regions: " + (names.empty() ? "none" : detail::one_of(names)) + ")");
        return "";
      }
      return region->sites[region_next_[name]++ % region->sites.size()];
    }
    return next_site();
  }

 private:
  Diagnostics* d_;
  const Topology* topology_;
  std::size_t next_ = 0;
  std::map<std::string, std::size_t> region_next_;
};

struct Context {
  Diagnostics& d;
  Scenario& s;
  Placer placer;
};

void add_node(Context& c, Node node, const YAML::Node& at, const std::string& path) {
  if (!core::is_valid_node_id(node.id)) {
    c.d.error(at, path,
              "'" + node.id +
                  "' is not a valid node id (1-64 of a-z, 0-9, '_', '-', starting with a letter)");
  }
  c.s.nodes.push_back(std::move(node));
}

void read_exchanges(Context& c, const MapReader& top) {
  const YAML::Node list = top.child("exchanges");
  if (!list.IsDefined()) return;
  if (!list.IsSequence()) return c.d.error(list, "exchanges", "expected a list of exchanges");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "exchanges[" + std::to_string(i) + "]";
    MapReader map(c.d, list[i], path, {"id", "site", "region", "markets", "risk"});
    if (!map.valid()) continue;
    Node node{map.text("id", "", true),
              Role::exchange,
              c.placer.place(map),
              ExchangeSpec{},
              {},
              map.line()};
    node.exchange->markets = map.text_list("markets", true);
    node.exchange->risk = detail::read_risk(c.d, map.child("risk"), map.path_of("risk"));
    std::set<std::string> symbols;
    for (std::size_t k = 0; k < node.exchange->markets.size(); ++k) {
      const auto& name = node.exchange->markets[k];
      const auto market = c.s.markets.find(name);
      const std::string item = map.path_of("markets") + "[" + std::to_string(k) + "]";
      if (market == c.s.markets.end()) {
        std::vector<std::string> names;
        for (const auto& [n, m] : c.s.markets) names.push_back(n);
        c.d.error(map.child("markets")[k], item,
                  "unknown market '" + name + "' (expected one of: " + detail::one_of(names) + ")");
        continue;
      }
      for (const auto& symbol : market->second.symbols) {
        if (!symbols.insert(symbol.name).second) {
          c.d.error(
              map.child("markets")[k], item,
              "symbol " + symbol.name + " is already listed by another market of this exchange");
        }
      }
    }
    add_node(c, std::move(node), map.child("id"), map.path_of("id"));
  }
}

void read_validators(Context& c, const MapReader& consensus) {
  const YAML::Node validators = consensus.child("validators", true);
  if (!validators.IsDefined()) return;
  const std::string path = consensus.path_of("validators");
  if (validators.IsScalar()) {
    const auto count = consensus.integer("validators", 1, detail::count_max).value_or(0);
    for (std::int64_t i = 0; i < count; ++i) {
      Node node{"val-" + std::to_string(i), Role::validator, "", {}, {},
                detail::line_of(validators)};
      node.site = c.placer.next_site();
      add_node(c, std::move(node), validators, path);
    }
    return;
  }
  if (!validators.IsSequence()) return c.d.error(validators, path, "expected a count or a list");
  for (std::size_t i = 0; i < validators.size(); ++i) {
    MapReader map(c.d, validators[i], path + "[" + std::to_string(i) + "]",
                  {"id", "site", "region"});
    if (!map.valid()) continue;
    Node node{map.text("id", "", true), Role::validator, c.placer.place(map), {}, {}, map.line()};
    add_node(c, std::move(node), map.child("id"), map.path_of("id"));
  }
}

void read_agents(Context& c, const MapReader& top) {
  const YAML::Node list = top.child("agents");
  if (!list.IsDefined()) return;
  if (!list.IsSequence()) return c.d.error(list, "agents", "expected a list of agents");
  std::set<std::string> exchanges;
  for (const auto* n : c.s.nodes_with_role(Role::exchange)) exchanges.insert(n->id);
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "agents[" + std::to_string(i) + "]";
    MapReader map(c.d, list[i], path,
                  {"name", "strategy", "count", "site", "region", "venues", "initial_balance",
                   "network_config", "strategy_config"});
    if (!map.valid()) continue;
    const std::string name = map.text("name", "", true);
    const auto strategy = map.choice("strategy", detail::strategy_names(), "strategy", true);
    const auto count = map.integer("count", 1, detail::count_max).value_or(1);
    if (!strategy) continue;
    AgentSpec spec = detail::read_agent_spec(map, detail::strategy_names()[*strategy]);
    spec.type_name = name;
    for (std::size_t v = 0; v < spec.venues.size(); ++v) {
      if (!exchanges.count(spec.venues[v])) {
        c.d.error(map.child("venues")[v], map.path_of("venues") + "[" + std::to_string(v) + "]",
                  "unknown exchange '" + spec.venues[v] + "'");
      }
    }
    if (spec.venues.empty()) spec.venues.assign(exchanges.begin(), exchanges.end());
    for (std::int64_t k = 0; k < count; ++k) {
      // A single agent keeps its name; several are numbered from 0.
      const std::string id = count > 1 ? name + "-" + std::to_string(k) : name;
      Node node{id, Role::agent, c.placer.place(map), {}, spec, map.line()};
      add_node(c, std::move(node), map.child("name"), map.path_of("name"));
    }
  }
}

// Names a disruption may refer to: the active topology's sites and every node.
std::set<std::string> addressable_names(const Scenario& s, const Topology* topology) {
  std::set<std::string> names;
  if (topology) names.insert(topology->sites.begin(), topology->sites.end());
  for (const auto& n : s.nodes) names.insert(n.id);
  return names;
}

void check_disruption(Context& c, Disruption& dis, const Topology* topology) {
  const auto names = addressable_names(c.s, topology);
  const std::string path = "disruptions." + dis.name;
  auto known = [&](const std::string& name, const std::string& what) {
    if (!names.count(name)) {
      c.d.error(
          dis.line, path + "." + what,
          "'" + name + "' is neither a site of topology '" + c.s.active_topology + "' nor a node");
    }
  };
  for (auto& link : dis.links) {
    auto pair = detail::split_pair(link.first, '-', names);
    if (!pair) {
      c.d.error(dis.line, path + ".affected_links",
                "'" + link.first + "' is not two sites or nodes joined by '-'");
      continue;
    }
    link = *pair;
  }
  if (dis.type == DisruptionType::node_failure && !dis.target.empty())
    known(dis.target, "target_node");
  if (dis.type == DisruptionType::regional_outage && !dis.region.empty() &&
      !(topology && topology->find_region(dis.region))) {
    c.d.error(dis.line, path + ".affected_region",
              "unknown region '" + dis.region + "' in topology '" + c.s.active_topology + "'");
  }
  for (const auto& group : dis.groups) {
    for (const auto& member : group) known(member, "groups");
  }
}

void read_disruptions(Context& c, const MapReader& top, const Topology* topology) {
  const YAML::Node map = top.child("disruptions");
  if (!map.IsDefined()) return;
  if (!map.IsMap()) return c.d.error(map, "disruptions", "expected a mapping of named disruptions");
  for (const auto& entry : map) {
    const std::string name = entry.first.Scalar();
    Disruption dis = detail::read_disruption(c.d, entry.second, "disruptions." + name, name);
    check_disruption(c, dis, topology);
    c.s.disruptions.push_back(std::move(dis));
  }
  std::stable_sort(
      c.s.disruptions.begin(), c.s.disruptions.end(),
      [](const Disruption& a, const Disruption& b) { return a.start_ms < b.start_ms; });
}

// Reads a mapping of named sections with `read(d, node, path, name)`.
template <class T, class Read>
void read_named(Diagnostics& d, const MapReader& top, std::string_view key,
                std::map<std::string, T>& out, Read read) {
  const YAML::Node map = top.child(key, true);
  if (!map.IsDefined()) return;
  if (!map.IsMap() || map.size() == 0) {
    return d.error(map, std::string(key), "expected a mapping of named " + std::string(key));
  }
  for (const auto& entry : map) {
    const std::string name = entry.first.Scalar();
    out.emplace(name, read(d, entry.second, std::string(key) + "." + name, name));
  }
}

std::string choose_topology(Context& c, const MapReader& top, std::string_view override_name) {
  std::string name(override_name);
  int line = 0;
  if (name.empty() && top.has("network")) {
    MapReader network(c.d, top.child("network"), "network", {"topology"});
    name = network.text("topology", "");
    line = detail::line_of(network.child("topology"));
  }
  if (name.empty() && c.s.topologies.size() == 1) name = c.s.topologies.begin()->first;
  std::vector<std::string> names;
  for (const auto& [n, t] : c.s.topologies) names.push_back(n);
  if (name.empty() && !names.empty()) {
    c.d.error(top.line(), "network.topology",
              "several topologies are declared; choose one (expected one of: " +
                  detail::one_of(names) + ")");
  } else if (!name.empty() && !c.s.topologies.count(name) && !names.empty()) {
    c.d.error(line, "network.topology",
              "unknown topology '" + name + "' (expected one of: " + detail::one_of(names) + ")");
    name.clear();
  }
  return name;
}

void read_simulation(Context& c, const MapReader& top) {
  if (!top.has("simulation")) return;
  MapReader sim(c.d, top.child("simulation"), "simulation",
                {"duration_seconds", "time_step_ms", "random_seed"});
  c.s.duration_ms = sim.scaled_or("duration_seconds", 3, 0, 0, detail::duration_ms_max);
  c.s.time_step_ms = sim.integer_or("time_step_ms", 100, 1, 3'600'000);
  c.s.seed = static_cast<std::uint64_t>(sim.integer_or("random_seed", 0, 0, INT64_MAX));
}

void read_service_nodes(Context& c, const MapReader& top) {
  bool proxy_enabled = true;
  std::string proxy_id = "netproxy";
  if (top.has("proxy")) {
    MapReader proxy(c.d, top.child("proxy"), "proxy", {"enabled", "id"});
    proxy_enabled = proxy.boolean("enabled", true);
    proxy_id = proxy.text("id", proxy_id);
  }
  if (proxy_enabled) {
    c.s.proxy_id = proxy_id;
    add_node(c, Node{proxy_id, Role::proxy, "", {}, {}, 0}, top.child("proxy"), "proxy.id");
  }
  if (c.s.monitoring.enabled) {
    std::string id = "monitor";
    if (top.child("monitoring").IsMap() && top.child("monitoring")["id"].IsDefined()) {
      id = top.child("monitoring")["id"].Scalar();
    }
    c.s.monitor_id = id;
    add_node(c, Node{id, Role::monitor, "", {}, {}, 0}, top.child("monitoring"), "monitoring.id");
  }
}

void check_nodes(Context& c, const Topology* topology) {
  std::map<std::string, const Node*> seen;
  for (const auto& node : c.s.nodes) {
    auto [it, fresh] = seen.emplace(node.id, &node);
    if (!fresh) {
      c.d.error(node.line, "nodes",
                "node id '" + node.id + "' is used twice (first at line " +
                    std::to_string(it->second->line) + ")");
    }
    if (topology && topology->has_site(node.id)) {
      c.d.error(node.line, "nodes",
                "node id '" + node.id + "' is also a site of topology '" + topology->name + "'");
    }
  }
  if (c.s.nodes.size() > nodes_max) {
    c.d.error(0, "nodes", "more than " + std::to_string(nodes_max) + " nodes");
  }
  const auto validators = c.s.nodes_with_role(Role::validator).size();
  const auto f = c.s.consensus.byzantine_nodes;
  if (f > 0 && validators < 3 * static_cast<std::size_t>(f) + 1) {
    c.d.error(0, "consensus.byzantine.nodes",
              std::to_string(f) + " Byzantine validators need at least " +
                  std::to_string(3 * f + 1) + " validators (n = 3f + 1), not " +
                  std::to_string(validators));
  }
}

void read_document(Context& c, const YAML::Node& root, std::string_view topology_override) {
  MapReader top(c.d, root, "",
                {"version", "name", "description", "simulation", "network", "topologies", "markets",
                 "exchanges", "consensus", "agents", "disruptions", "monitoring", "proxy"});
  if (!top.valid()) return;
  const auto version = top.integer("version", 1, 1000, true);
  if (version && *version != 1) {
    c.d.error(top.child("version"), "version",
              "unsupported version " + std::to_string(*version) + " (this build reads version 1)");
  }
  c.s.name = top.text("name", "", true);
  c.s.description = top.text("description", "");
  read_simulation(c, top);
  read_named(c.d, top, "topologies", c.s.topologies, detail::read_topology);
  read_named(c.d, top, "markets", c.s.markets, detail::read_market);
  c.s.active_topology = choose_topology(c, top, topology_override);
  const auto active = c.s.topologies.find(c.s.active_topology);
  const Topology* topology = active == c.s.topologies.end() ? nullptr : &active->second;
  c.placer = Placer(c.d, topology);
  read_exchanges(c, top);
  if (top.has("consensus")) {
    MapReader consensus(
        c.d, top.child("consensus"), "consensus",
        {"protocol", "validators", "heartbeat_ms", "election_timeout_ms", "batch_trades_max",
         "epoch_ms", "difficulty_bits", "confirmations", "byzantine"});
    if (consensus.valid()) {
      c.s.consensus = detail::read_consensus(consensus);
      read_validators(c, consensus);
    }
  }
  read_agents(c, top);
  c.s.monitoring = detail::read_monitoring(c.d, top.child("monitoring"));
  read_service_nodes(c, top);
  check_nodes(c, topology);
  read_disruptions(c, top, topology);
}

}  // namespace

std::expected<Scenario, LoadError> parse(std::string_view yaml_text, std::string_view file,
                                         std::string_view topology) {
  Diagnostics d{std::string(file)};
  Scenario scenario;
  scenario.file = std::string(file);
  if (yaml_text.size() > file_bytes_max) {
    d.error(0, "", "file is larger than " + std::to_string(file_bytes_max) + " bytes");
    return std::unexpected(d.take());
  }
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull() || !root.IsDefined()) {
      d.error(0, "", "the file is empty (expected a scenario: version, name, topologies, ...)");
    } else {
      Context c{d, scenario, Placer(d, nullptr)};
      read_document(c, root, topology);
    }
  } catch (const YAML::ParserException& e) {
    d.error(e.mark.line + 1, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    d.error(e.mark.line + 1, "", "cannot read the document: " + e.msg);
  }
  if (!d.empty()) return std::unexpected(d.take());
  return scenario;
}

}  // namespace mkt::scenario
