#pragma once
// What `marketctl up` starts, in what order, with which command lines. I/O-free: the supervisor
// runs what this decides, and the tests read it.
//
// Start order: the proxy (everyone's channels go through it), then the validators (together:
// they need each other to elect a leader), then the exchanges (they report to the validators),
// then the agents (they trade on the exchanges). Nodes that cannot run yet (the monitor, agents
// of strategies agentd lacks) are listed as not started, with the reason.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "mkt/runtime/run_folder.h"
#include "mkt/scenario/scenario.h"

namespace mkt::marketctl {

struct Binaries {
  std::string netproxy;
  std::string exchanged;
  std::string validatord;
  std::string agentd;
  std::string monitord;
};

// Where a node's files are. Local processes keep everything in the run folder and listen on
// loopback; in a container (compose.h) the market's shared files are in /market, the node's own
// in the /data volume, the scenario at a fixed path, and every port listens on all interfaces.
struct LaunchOptions {
  runtime::RunPaths run;
  Binaries binaries;
  std::string sync = "fsync";  // journals and write-ahead logs: fsync or none
  std::string topology;        // the scenario's topology override, passed on
  bool container = false;
  bool tls = false;            // every node with --tls-dir=<run>/tls
  int proxy_http_port = 0;     // in containers: the proxy's JSON API, for the monitor
  int proxy_control_port = 0;  // and its gRPC control API (its telemetry)
};

// The fixed paths inside every container of a compose market.
namespace container {
inline constexpr const char* scenario = "/etc/netmarket/scenario.yaml";
inline constexpr const char* market = "/market";  // the run folder's shared files
inline constexpr const char* data = "/data";      // the node's own volume
inline constexpr const char* web = "/usr/local/share/netmarket/web";  // the dashboard's files
}  // namespace container

struct PlanOptions {
  bool agents = true;  // false: agents are not started (their accounts exist for manual orders)
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
StartPlan start_plan(const scenario::Scenario& scenario, PlanOptions options = {});

// The command line of `node`. `listen` gives each of its ports (0: any free one). `addresses`
// maps node ids to host:port for every node already serving (the exchanges' --ledger list comes
// from it); `proxy` is the proxy's host:port, or empty without one.
std::vector<std::string> command_line(const scenario::Scenario& scenario,
                                      const scenario::Node& node, const LaunchOptions& options,
                                      const runtime::Ports& listen,
                                      const std::map<std::string, std::string>& addresses,
                                      const std::string& proxy);

// With --base-port N, the ports of every node, N, N+1, ... in start order.
std::map<std::string, runtime::Ports> fixed_ports(const StartPlan& plan, int base_port);

}  // namespace mkt::marketctl
