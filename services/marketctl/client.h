#pragma once
// How the commands reach a running market: the supervisor's control socket, and each process's
// gRPC and HTTP ports as the run's state file records them. Operator traffic is management
// traffic: it goes straight to the processes, never through the impairment proxy.

#include <boost/program_options/variables_map.hpp>
#include <chrono>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"
#include "mkt/scenario/scenario.h"

namespace grpc {
class Channel;
class Status;
}  // namespace grpc

namespace mkt::marketctl {

// Sends one request line to the supervisor and returns its answer (first word "ok" or "error").
std::expected<std::string, std::string> control_request(const runtime::RunPaths& run,
                                                        const std::string& request,
                                                        std::chrono::seconds timeout);

// A direct channel (no proxy) to a process of the run on 127.0.0.1:<port>, as the operator. With
// `tls` (the operator's identity in a TLS run), mutual TLS with the node `peer`.
std::shared_ptr<grpc::Channel> direct_channel(int port,
                                              std::shared_ptr<const runtime::TlsIdentity> tls,
                                              const std::string& peer);

// The operator's TLS identity in a TLS run (<run>/tls), null in another.
std::expected<std::shared_ptr<const runtime::TlsIdentity>, std::string> operator_identity(
    const runtime::RunPaths& run);

// A gRPC deadline `timeout` from now.
std::chrono::system_clock::time_point deadline_in(std::chrono::milliseconds timeout);

// A failed call's message and code, for an error line.
std::string rpc_error(const grpc::Status& status);

// The sum of every sample of a Prometheus metric (all label sets) in a /metrics text.
double metric_sum(const std::string& metrics_text, const std::string& name);

// A running market as the commands see it: its state and its scenario. Local processes are known
// by the run folder's state file; a compose market by its containers (the node records then hold
// the published host ports, and `containers` each node's container id).
struct Market {
  runtime::RunPaths run;
  runtime::RunState state;
  scenario::Scenario scenario;
  std::string compose;                              // the project or file; empty for processes
  std::map<std::string, std::string> containers;    // node id -> container id (compose)
  std::string network;                              // the compose network (compose)
  std::shared_ptr<const runtime::TlsIdentity> tls;  // the operator's, in a TLS market

  // The nodes of a role ("validator", ...), in start order; with `running`, only running ones.
  std::vector<const runtime::NodeRecord*> nodes_of(std::string_view role,
                                                   bool running = false) const;
  // The record of a running node, or an error that says what is wrong and what to do.
  std::expected<const runtime::NodeRecord*, std::string> running(const std::string& id) const;
  // A direct channel to a node's gRPC port ("grpc", or "control" for the proxy).
  std::shared_ptr<grpc::Channel> channel(const runtime::NodeRecord& node,
                                         const char* port = "grpc") const {
    return direct_channel(node.port(port), tls, node.id);
  }
};

// Freezes a node with its sockets open (SIGSTOP, or docker pause for a container), or thaws it
// (SIGCONT, docker unpause): the gray failure, and how verify stops the workload.
std::expected<void, std::string> freeze_node(const Market& market, const std::string& node,
                                             bool freeze);

// The API key of an account (the agents' and the operator's), from the run folder or, in a
// compose market, from its market volume.
std::expected<std::string, std::string> api_key(const Market& market, const std::string& account);

// The market of a command's --run (its state and scenario; fails unless its supervisor is alive)
// or of its --compose (its containers, which must exist).
std::expected<Market, std::string> open_market(const boost::program_options::variables_map& flags);

}  // namespace mkt::marketctl
