#pragma once
// What `marketctl up` starts, in what order, with which command lines. I/O-free: the supervisor
// runs what this decides, and the tests read it.
//
// Start order: the proxy (everyone's channels go through it), then the validators (together:
// they need each other to elect a leader), then the exchanges (they report to the validators).
// Agents and the monitor have no binary yet; they are listed as not started, with the reason.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mkt/scenario/scenario.h"
#include "run.h"

namespace mkt::marketctl {

struct Binaries {
  std::string netproxy;
  std::string exchanged;
  std::string validatord;
};

struct LaunchOptions {
  RunPaths run;
  Binaries binaries;
  std::string sync = "fsync";  // journals and write-ahead logs: fsync or none
  std::string topology;        // the scenario's topology override, passed on
};

// The ports a node of this role listens on, by name: proxy, control and http for the proxy,
// grpc and metrics for the others.
std::vector<std::string> port_names(scenario::Role role);

// Each stage starts once the one before serves. Nodes that cannot be started are in `skipped`
// with why.
struct StartPlan {
  std::vector<std::vector<const scenario::Node*>> stages;
  std::vector<std::pair<const scenario::Node*, std::string>> skipped;
};
StartPlan start_plan(const scenario::Scenario& scenario);

// The command line of `node`. `listen` gives each of its ports (0: any free one). `addresses`
// maps node ids to host:port for every node already serving (the exchanges' --ledger list comes
// from it); `proxy` is the proxy's host:port, or empty without one.
std::vector<std::string> command_line(const scenario::Scenario& scenario,
                                      const scenario::Node& node, const LaunchOptions& options,
                                      const Ports& listen,
                                      const std::map<std::string, std::string>& addresses,
                                      const std::string& proxy);

// With --base-port N, the ports of every node, N, N+1, ... in start order.
std::map<std::string, Ports> fixed_ports(const StartPlan& plan, int base_port);

}  // namespace mkt::marketctl
