#pragma once
// The run folder of a market started by `marketctl up`: everything one run writes, in one place.
// Here in the runtime because more than marketctl reads it (tests, and the tools that watch a run).
//
//   <run>/scenario.yaml      the scenario as started (every process reads this copy)
//   <run>/state              what the supervisor knows: its pid, and every node's pid and ports
//   <run>/addresses          `<node> <host>:<port>` of every serving node (the proxy and the
//                            validators read it to find each other)
//   <run>/accounts           `<account> <api key>` for every agent and the operator (mode 0600)
//   <run>/ledger-keys        `<exchange> <key>` for every exchange: its credential to the ledger,
//                            which the validators check on every batch (mode 0600)
//   <run>/validator-keys     `<validator> <key>` for every validator: its credential to its
//                            peers, checked on every Raft call (mode 0600)
//   <run>/tls/               with `up --tls`: the run's CA and every node's certificate and key
//                            (mkt/runtime/tls.h); a run whose folder has it is a TLS run
//   <run>/control.sock       the supervisor's control socket (kill, restart, stop)
//   <run>/logs/<node>.log    each process's output; logs/marketctl.log is the supervisor's
//   <run>/ports/<node>       the ports file a process writes once it serves
//   <run>/data/<node>/       journals and write-ahead logs
//
// The state file is the contract between the supervisor (which writes it on every change) and
// the other commands (which only read it). Its format, one record per line:
//
//   supervisor pid=123 phase=running scenario=default
//   node id=val-0 role=validator state=running pid=125 restarts=0 exit=0 grpc=41234 metrics=41235

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "mkt/scenario/scenario.h"

namespace mkt::runtime {

struct RunPaths {
  std::filesystem::path dir;

  std::filesystem::path scenario() const { return dir / "scenario.yaml"; }
  std::filesystem::path state() const { return dir / "state"; }
  std::filesystem::path addresses() const { return dir / "addresses"; }
  std::filesystem::path accounts() const { return dir / "accounts"; }
  std::filesystem::path ledger_keys() const { return dir / "ledger-keys"; }
  std::filesystem::path validator_keys() const { return dir / "validator-keys"; }
  std::filesystem::path epoch() const { return dir / "epoch"; }
  std::filesystem::path tls() const { return dir / "tls"; }
  std::filesystem::path control_socket() const { return dir / "control.sock"; }
  std::filesystem::path logs() const { return dir / "logs"; }
  std::filesystem::path log(const std::string& node) const { return logs() / (node + ".log"); }
  std::filesystem::path supervisor_log() const { return logs() / "marketctl.log"; }
  std::filesystem::path ports() const { return dir / "ports"; }
  std::filesystem::path ports_file(const std::string& node) const { return ports() / node; }
  std::filesystem::path data(const std::string& node) const { return dir / "data" / node; }
};

// The account manual orders use when no --account is given.
inline constexpr const char* operator_account = "operator";
// The accounts of a market: every agent's and the operator's. marketctl gives each a key; the
// ledger admits trades between them and no others.
std::vector<std::string> market_accounts(const scenario::Scenario& scenario);
// The gRPC metadata (and HTTP header) an account's API key travels in.
inline constexpr const char* api_key_metadata = "x-api-key";
// The gRPC metadata an exchange sends its ledger key in (<run>/ledger-keys).
inline constexpr const char* ledger_key_metadata = "x-ledger-key";
// The gRPC metadata a validator sends its key to its peers in (<run>/validator-keys).
inline constexpr const char* validator_key_metadata = "x-validator-key";

using Ports = std::vector<std::pair<std::string, int>>;

// The port named `name` in `ports`, 0 when absent.
int port_of(const Ports& ports, std::string_view name);

// The market's time 0 from an epoch file (<run>/epoch: Unix ns and a newline), as agents read it.
std::expected<std::int64_t, std::string> read_epoch(const std::filesystem::path& path);

// Where a supervised process is. Only starting, running and paused ones have a live pid (paused:
// frozen by SIGSTOP or `docker pause`, its sockets open).
enum class NodeState { pending, starting, running, exited, killed, stopped, paused };
std::string_view to_string(NodeState state);

// The name of the port a node of this role serves /metrics on: the proxy's are on its HTTP API
// ("http"), every other node's on "metrics".
inline std::string_view metrics_port_name(std::string_view role) {
  return role == "proxy" ? "http" : "metrics";
}

struct NodeRecord {
  std::string id;
  std::string role;
  NodeState state = NodeState::pending;  // not started yet
  pid_t pid = 0;
  int restarts = 0;
  int exit = 0;  // exit code, or 128 + signal
  Ports ports;   // as the process reported them; kept after it exits, reused by a restart

  int port(std::string_view name) const;  // 0 when absent
  int metrics_port() const { return port(metrics_port_name(role)); }
};

// The supervisor's phases: starting every node, running, stopping, or stopped (also after a
// start that failed).
struct RunState {
  pid_t supervisor = 0;
  std::string phase = "starting";
  std::string scenario;
  std::vector<NodeRecord> nodes;

  const NodeRecord* find(std::string_view id) const;
};

std::string format_state(const RunState& state);
std::expected<RunState, std::string> parse_state(const std::string& text);

// Reads <run>/state. The error says what to do when there is no run there.
std::expected<RunState, std::string> read_state(const RunPaths& run);

// True when `pid` is a live process (not a zombie).
bool process_alive(pid_t pid);

// `<name> <port>` lines, as services write them (runtime::write_ports_file).
std::expected<Ports, std::string> parse_ports(const std::string& text);

// "127.0.0.1:<port>": every process of a run listens on loopback.
std::string loopback(int port);

// Node id -> host:port of every record with a gRPC port, and the same as the addresses file's
// `<node> <host>:<port>` lines.
std::map<std::string, std::string> grpc_addresses(const std::vector<NodeRecord>& nodes);
std::string format_addresses(const std::vector<NodeRecord>& nodes);

// A fresh API key: 32 hex digits from the kernel's random source.
std::string random_api_key();

}  // namespace mkt::runtime
