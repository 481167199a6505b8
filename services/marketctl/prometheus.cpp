#include "prometheus.h"

#include <sstream>

#include "compose.h"
#include "mkt/runtime/run_folder.h"
#include "plan.h"

namespace mkt::marketctl {
namespace {

// Prometheus's durations: "1s", "500ms".
std::string duration(std::int64_t ms) {
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace

std::string prometheus_config(const scenario::Scenario& scenario,
                              const std::map<std::string, std::string>& targets,
                              const std::string& command_line) {
  const std::int64_t interval = scenario.monitoring.scrape_interval_ms;
  std::ostringstream out;
  out << "# Prometheus's scrape configuration of scenario '" << scenario.name << "', written by\n"
      << "#   " << command_line << "\n"
      << "# Do not edit: write it again. `promtool check config` checks it.\n"
      << "global:\n"
      << "  scrape_interval: " << duration(interval) << "\n"
      << "  scrape_timeout: " << duration(std::max<std::int64_t>(100, interval * 8 / 10)) << "\n"
      << "scrape_configs:\n";
  for (const scenario::Role role :
       {scenario::Role::exchange, scenario::Role::validator, scenario::Role::agent,
        scenario::Role::proxy, scenario::Role::monitor}) {
    std::ostringstream job;
    for (const auto* node : scenario.nodes_with_role(role)) {
      const auto target = targets.find(node->id);
      if (target == targets.end()) continue;
      job << "      - targets: [\"" << target->second << "\"]\n"
          << "        labels: {node: \"" << node->id << "\"";
      if (!node->site.empty()) job << ", site: \"" << node->site << "\"";
      job << "}\n";
    }
    if (job.str().empty()) continue;
    out << "  - job_name: " << scenario::to_string(role) << "\n"
        << "    static_configs:\n"
        << job.str();
  }
  return out.str();
}

std::map<std::string, std::string> compose_metrics_targets(const scenario::Scenario& scenario) {
  std::map<std::string, std::string> targets;
  for (const auto& stage : start_plan(scenario).stages) {
    for (const auto* node : stage) {
      const int port = runtime::port_of(
          container_ports(node->role), runtime::metrics_port_name(scenario::to_string(node->role)));
      targets[node->id] = node->id + ":" + std::to_string(port);
    }
  }
  return targets;
}

std::map<std::string, std::string> local_metrics_targets(const scenario::Scenario& scenario,
                                                         const runtime::RunState& state) {
  std::map<std::string, std::string> targets;
  for (const auto& record : state.nodes) {
    if (scenario.find_node(record.id) == nullptr) continue;
    if (const int port = record.metrics_port(); port != 0) {
      targets[record.id] = "127.0.0.1:" + std::to_string(port);
    }
  }
  return targets;
}

}  // namespace mkt::marketctl
