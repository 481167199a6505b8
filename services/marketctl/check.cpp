#include "check.h"

#include <iomanip>

namespace mkt::marketctl {
namespace {

std::string seconds(std::int64_t ms) {
  return core::Decimal{ms, 3}.normalized().to_string();
}

}  // namespace

int check(const runtime::CommonOptions& options, std::ostream& out, std::ostream& err) {
  const auto loaded = runtime::load_scenario_file(options.config_path, options.topology);
  if (!loaded) {
    err << loaded.error();
    return 1;
  }
  const scenario::Scenario& s = *loaded;
  const scenario::Topology& topology = s.topology();
  out << "scenario " << s.name << " (" << s.file << "): OK\n";
  out << "topology " << topology.name << ": " << scenario::to_string(topology.type) << ", "
      << topology.sites.size() << " sites";
  if (!topology.regions.empty()) out << " in " << topology.regions.size() << " regions";
  out << "\n";
  out << "consensus " << scenario::to_string(s.consensus.protocol) << ", "
      << s.nodes_with_role(scenario::Role::validator).size() << " validators\n\n";
  out << std::left << std::setw(24) << "NODE" << std::setw(11) << "ROLE" << std::setw(10) << "SITE"
      << "DETAIL\n";
  for (const auto& node : s.nodes) {
    std::string detail;
    if (node.exchange) {
      for (const auto* symbol : s.symbols_of(node)) detail += symbol->name + " ";
    }
    if (node.agent) detail = node.agent->strategy;
    out << std::setw(24) << node.id << std::setw(11) << scenario::to_string(node.role)
        << std::setw(10) << (node.site.empty() ? "-" : node.site) << detail << "\n";
  }
  if (!s.disruptions.empty()) {
    out << "\nDISRUPTIONS\n";
    for (const auto& d : s.disruptions) {
      out << "  " << std::setw(22) << d.name << std::setw(16) << scenario::to_string(d.type)
          << "at " << seconds(d.start_ms) << " s for " << seconds(d.duration_ms) << " s\n";
    }
  }
  return 0;
}

}  // namespace mkt::marketctl
