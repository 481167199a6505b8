#include "plan.h"

#include "mkt/agents/setup.h"

namespace mkt::marketctl {

using scenario::Role;

std::vector<std::string> port_names(Role role) {
  if (role == Role::proxy) return {"proxy", "control", "http"};
  return {"grpc", "metrics"};
}

StartPlan start_plan(const scenario::Scenario& scenario, PlanOptions options) {
  StartPlan plan;
  if (const auto* proxy = scenario.find_node(scenario.proxy_id); proxy) {
    plan.stages.push_back({proxy});
  }
  std::vector<const scenario::Node*> validators;
  for (const auto* node : scenario.nodes_with_role(Role::validator)) {
    if (scenario.consensus.protocol == scenario::ConsensusProtocol::raft) {
      validators.push_back(node);
    } else {
      plan.skipped.emplace_back(node, "validatord runs Raft only; " +
                                          std::string(to_string(scenario.consensus.protocol)) +
                                          " validators are not built yet");
    }
  }
  if (!validators.empty()) plan.stages.push_back(std::move(validators));
  if (auto exchanges = scenario.nodes_with_role(Role::exchange); !exchanges.empty()) {
    plan.stages.push_back(std::move(exchanges));
  }
  std::vector<const scenario::Node*> agents;
  for (const auto* node : scenario.nodes_with_role(Role::agent)) {
    const auto supported = agents::strategy_supported(node->agent->strategy);
    if (options.agents && supported) {
      agents.push_back(node);
      continue;
    }
    const std::string why = options.agents ? supported.error() : "up --no-agents";
    plan.skipped.emplace_back(
        node, why + " (its account is ready for `marketctl order --account " + node->id + "`)");
  }
  if (!agents.empty()) plan.stages.push_back(std::move(agents));
  // The monitor comes last: it watches what the others serve.
  if (const auto* monitor = scenario.find_node(scenario.monitor_id); monitor) {
    plan.stages.push_back({monitor});
  }
  return plan;
}

std::vector<std::string> command_line(const scenario::Scenario& scenario,
                                      const scenario::Node& node, const LaunchOptions& options,
                                      const runtime::Ports& listen,
                                      const std::map<std::string, std::string>& addresses,
                                      const std::string& proxy) {
  const auto& run = options.run;
  const auto listen_flag = [&](const std::string& name) {
    const int port = runtime::port_of(listen, name);
    return options.container ? "0.0.0.0:" + std::to_string(port) : runtime::loopback(port);
  };
  const auto data = [&](const char* leaf) {
    const auto dir = options.container ? std::filesystem::path(container::data) : run.data(node.id);
    return (*leaf != 0 ? dir / leaf : dir).string();
  };
  std::vector<std::string> args;
  switch (node.role) {
    case Role::proxy:
      args = {options.binaries.netproxy,
              "--listen=" + listen_flag("proxy"),
              "--control-listen=" + listen_flag("control"),
              "--http-listen=" + listen_flag("http"),
              "--addresses=" + run.addresses().string(),
              "--accounts=" + run.accounts().string()};
      break;
    case Role::validator:
      args = {options.binaries.validatord,
              "--listen=" + listen_flag("grpc"),
              "--metrics-listen=" + listen_flag("metrics"),
              "--data-dir=" + data(""),
              "--wal-sync=" + options.sync,
              "--addresses=" + run.addresses().string(),
              "--ledger-keys=" + run.ledger_keys().string(),
              "--validator-keys=" + run.validator_keys().string()};
      break;
    case Role::exchange: {
      args = {options.binaries.exchanged,
              "--listen=" + listen_flag("grpc"),
              "--metrics-listen=" + listen_flag("metrics"),
              "--journal=" + data("journal"),
              "--journal-sync=" + options.sync,
              "--accounts=" + run.accounts().string()};
      std::string ledger;
      for (const auto* validator : scenario.nodes_with_role(Role::validator)) {
        if (auto it = addresses.find(validator->id); it != addresses.end()) {
          ledger += (ledger.empty() ? "" : ",") + it->second;
        }
      }
      if (!ledger.empty()) {
        args.push_back("--ledger=" + ledger);
        args.push_back("--ledger-keys=" + run.ledger_keys().string());
      }
      break;
    }
    case Role::agent:
      args = {options.binaries.agentd,
              "--listen=" + listen_flag("grpc"),
              "--metrics-listen=" + listen_flag("metrics"),
              "--accounts=" + run.accounts().string(),
              "--addresses=" + run.addresses().string(),
              "--epoch-file=" + run.epoch().string()};
      break;
    case Role::monitor:
      // On the management path: straight to each process, never through the proxy.
      args = {options.binaries.monitord, "--listen=" + listen_flag("grpc"),
              "--metrics-listen=" + listen_flag("metrics")};
      if (options.container) {
        // Every container serves its metrics on the same port as this one.
        args.push_back("--metrics-port=" + std::to_string(runtime::port_of(listen, "metrics")));
        args.push_back("--grpc-port=" + std::to_string(runtime::port_of(listen, "grpc")));
        if (options.proxy_http_port != 0) {
          args.push_back("--proxy-http-port=" + std::to_string(options.proxy_http_port));
          args.push_back("--proxy-control-port=" + std::to_string(options.proxy_control_port));
        }
        args.push_back(std::string("--assets=") + container::web);
      } else {
        args.push_back("--run=" + run.dir.string());
      }
      break;
  }
  if (!proxy.empty() && node.role != Role::proxy && node.role != Role::monitor) {
    args.push_back("--proxy=" + proxy);
  }
  if (options.tls) args.push_back("--tls-dir=" + run.tls().string());
  args.push_back("--config=" + (options.container ? container::scenario : run.scenario().string()));
  args.push_back("--node=" + node.id);
  if (!options.topology.empty()) args.push_back("--topology=" + options.topology);
  args.push_back("--log-level=" + scenario.monitoring.log_level);
  if (!options.container) args.push_back("--ports-file=" + run.ports_file(node.id).string());
  return args;
}

std::map<std::string, runtime::Ports> fixed_ports(const StartPlan& plan, int base_port) {
  std::map<std::string, runtime::Ports> ports;
  int next = base_port;
  for (const auto& stage : plan.stages) {
    for (const auto* node : stage) {
      for (const auto& name : port_names(node->role)) ports[node->id].emplace_back(name, next++);
    }
  }
  return ports;
}

}  // namespace mkt::marketctl
