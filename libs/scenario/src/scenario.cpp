#include "mkt/scenario/scenario.h"

#include <algorithm>

namespace mkt::scenario {

std::string_view to_string(Role role) {
  return core::name_in(role_names, role);
}
std::string_view to_string(TopologyType type) {
  return core::name_in(topology_type_names, type);
}
std::string_view to_string(DistributionKind kind) {
  return core::name_in(distribution_names, kind);
}
std::string_view to_string(ConsensusProtocol protocol) {
  return core::name_in(protocol_names, protocol);
}
std::string_view to_string(DisruptionType type) {
  return core::name_in(disruption_names, type);
}

const Region* Topology::find_region(std::string_view region_name) const {
  for (const auto& r : regions) {
    if (r.name == region_name) return &r;
  }
  return nullptr;
}

bool Topology::has_site(std::string_view site) const {
  return std::find(sites.begin(), sites.end(), site) != sites.end();
}

const Symbol* Market::find_symbol(std::string_view symbol) const {
  for (const auto& s : symbols) {
    if (s.name == symbol) return &s;
  }
  return nullptr;
}

const Node* Scenario::find_node(std::string_view id) const {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

std::vector<const Node*> Scenario::nodes_with_role(Role role) const {
  std::vector<const Node*> out;
  for (const auto& n : nodes) {
    if (n.role == role) out.push_back(&n);
  }
  return out;
}

std::vector<const Symbol*> Scenario::symbols_of(const Node& exchange) const {
  std::vector<const Symbol*> out;
  if (!exchange.exchange) return out;
  for (const auto& market_name : exchange.exchange->markets) {
    const auto it = markets.find(market_name);
    if (it == markets.end()) continue;
    for (const auto& s : it->second.symbols) out.push_back(&s);
  }
  return out;
}

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) out += path + ": ";
  return out + message;
}

std::string LoadError::to_string() const {
  std::string out;
  for (const auto& d : diagnostics) out += d.to_string() + "\n";
  return out;
}

}  // namespace mkt::scenario
