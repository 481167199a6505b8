#include "client.h"

#include <grpcpp/support/status.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include "compose.h"
#include "docker.h"
#include "mkt/accounts/accounts.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "plan.h"
#include "run_setup.h"

namespace mkt::marketctl {

std::expected<std::string, std::string> control_request(const runtime::RunPaths& run,
                                                        const std::string& request,
                                                        std::chrono::seconds timeout) {
  const auto path = run.control_socket().string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return std::unexpected("socket path too long: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
  const timeval tv{.tv_sec = timeout.count(), .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return std::unexpected("cannot reach the supervisor at " + path + " (" + why + ")");
  }
  const std::string line = request + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    ::close(fd);
    return std::unexpected("cannot send to the supervisor at " + path);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    const auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      ::close(fd);
      return std::unexpected("no answer from the supervisor within " +
                             std::to_string(timeout.count()) + " s");
    }
    if (n == 0) break;
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (answer.empty()) return std::unexpected("the supervisor closed the connection unanswered");
  return answer;
}

double metric_sum(const std::string& text, const std::string& name) {
  double sum = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() <= name.size() || line.compare(0, name.size(), name) != 0) continue;
    const char next = line[name.size()];
    if (next != ' ' && next != '{') continue;
    const auto space = line.rfind(' ');
    try {
      sum += std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
    }
  }
  return sum;
}

std::vector<const runtime::NodeRecord*> Market::nodes_of(std::string_view role,
                                                         bool running_only) const {
  std::vector<const runtime::NodeRecord*> nodes;
  for (const auto& node : state.nodes) {
    if (node.role == role && (!running_only || node.state == runtime::NodeState::running)) {
      nodes.push_back(&node);
    }
  }
  return nodes;
}

std::expected<const runtime::NodeRecord*, std::string> Market::running(
    const std::string& id) const {
  const auto* node = state.find(id);
  if (!node) {
    std::string known;
    for (const auto& n : state.nodes) known += " " + n.id;
    return std::unexpected("no process '" + id + "' in this run; its processes are:" + known);
  }
  if (node->state != runtime::NodeState::running) {
    return std::unexpected(id + " is not running (" + std::string(to_string(node->state)) +
                           "): `marketctl restart " + id + "` starts it again");
  }
  return node;
}

std::shared_ptr<grpc::Channel> direct_channel(int port,
                                              std::shared_ptr<const runtime::TlsIdentity> tls,
                                              const std::string& peer) {
  return runtime::make_channel(runtime::loopback(port), {.node_id = runtime::operator_account,
                                                         .proxy_address = {},
                                                         .tls = std::move(tls),
                                                         .peer = peer});
}

std::expected<std::shared_ptr<const runtime::TlsIdentity>, std::string> operator_identity(
    const runtime::RunPaths& run) {
  if (!tls_run(run)) return nullptr;
  auto identity = runtime::load_identity(run.tls(), runtime::operator_account);
  if (!identity) return std::unexpected(identity.error());
  return std::make_shared<const runtime::TlsIdentity>(std::move(*identity));
}

std::chrono::system_clock::time_point deadline_in(std::chrono::milliseconds timeout) {
  return std::chrono::system_clock::now() + timeout;
}

std::string rpc_error(const grpc::Status& status) {
  // gRPC's status codes by number (grpcpp/impl/codegen/status_code_enum.h).
  constexpr std::array<std::string_view, 17> names{"OK",
                                                   "CANCELLED",
                                                   "UNKNOWN",
                                                   "INVALID_ARGUMENT",
                                                   "DEADLINE_EXCEEDED",
                                                   "NOT_FOUND",
                                                   "ALREADY_EXISTS",
                                                   "PERMISSION_DENIED",
                                                   "RESOURCE_EXHAUSTED",
                                                   "FAILED_PRECONDITION",
                                                   "ABORTED",
                                                   "OUT_OF_RANGE",
                                                   "UNIMPLEMENTED",
                                                   "INTERNAL",
                                                   "UNAVAILABLE",
                                                   "DATA_LOSS",
                                                   "UNAUTHENTICATED"};
  const auto code = static_cast<std::size_t>(status.error_code());
  const std::string name =
      code < names.size() ? std::string(names[code]) : "gRPC code " + std::to_string(code);
  return status.error_message() + " (" + name + ")";
}

namespace {

// A file of the run folder or, in a compose market, of its market volume (which any running
// container can read).
std::expected<std::string, std::string> market_file(const Market& market, const std::string& path) {
  if (market.compose.empty()) return runtime::read_file(path, accounts::file_bytes_max);
  std::string container;
  for (const auto& node : market.state.nodes) {
    if (node.state == runtime::NodeState::running) container = market.containers.at(node.id);
  }
  if (container.empty()) return std::unexpected("no container of " + market.compose + " runs");
  return docker({"exec", container, "cat", path});
}

std::expected<Market, std::string> open_run(const std::string& run_dir) {
  Market market;
  market.run = {std::filesystem::absolute(run_dir)};
  auto state = runtime::read_state(market.run);
  if (!state) return std::unexpected(state.error());
  if (!runtime::process_alive(state->supervisor) || state->phase == "stopped") {
    return std::unexpected("the market in " + run_dir + " is not running (its supervisor, pid " +
                           std::to_string(state->supervisor) +
                           ", is gone): start it with `marketctl up`");
  }
  market.state = std::move(*state);
  auto scenario = runtime::load_scenario_file(market.run.scenario().string());
  if (!scenario) return std::unexpected(scenario.error());
  market.scenario = std::move(*scenario);
  auto tls = operator_identity(market.run);
  if (!tls) return std::unexpected(tls.error());
  market.tls = std::move(*tls);
  return market;
}

runtime::NodeState state_of(const Container& c) {
  if (c.status == "running" || c.status == "restarting") return runtime::NodeState::running;
  if (c.status == "paused") return runtime::NodeState::paused;
  if (c.status == "created") return runtime::NodeState::pending;
  return runtime::NodeState::exited;
}

std::expected<Market, std::string> open_compose(const std::string& spec) {
  auto containers = compose_containers(spec);
  if (!containers) return std::unexpected(containers.error());
  Market market;
  market.run = {container::market};
  market.compose = spec;
  std::string scenario_path;
  for (const auto& c : *containers) {
    if (!c.scenario.empty()) scenario_path = c.scenario;
  }
  if (scenario_path.empty()) {
    return std::unexpected("the containers of " + spec + " mount no scenario at " +
                           container::scenario + ": is it a netmarket compose market?");
  }
  auto scenario = runtime::load_scenario_file(scenario_path);
  if (!scenario) return std::unexpected(scenario.error());
  market.scenario = std::move(*scenario);
  market.state.phase = "running";
  market.state.scenario = market.scenario.name;
  std::map<std::string, const Container*> by_service;
  for (const auto& c : *containers) by_service[c.service] = &c;
  for (const auto& stage : start_plan(market.scenario).stages) {  // in start order
    for (const auto* node : stage) {
      const auto found = by_service.find(node->id);
      if (found == by_service.end()) continue;
      const auto& c = *found->second;
      runtime::NodeRecord record;
      record.id = node->id;
      record.role = std::string(to_string(node->role));
      record.state = state_of(c);
      record.exit = c.exit_code;
      for (const auto& [name, port] : container_ports(node->role)) {
        for (const auto& [inside, host] : c.ports) {
          if (inside == std::to_string(port)) record.ports.emplace_back(name, host);
        }
      }
      market.containers[node->id] = c.id;
      if (market.network.empty()) market.network = c.network;
      market.state.nodes.push_back(std::move(record));
    }
  }
  // A TLS market: the operator's identity from the market volume.
  const auto read = [&](const std::string& leaf) {
    return market_file(market, (market.run.tls() / leaf).string());
  };
  if (read("ca.pem")) {
    auto identity = runtime::load_identity(runtime::operator_account, read);
    if (!identity) return std::unexpected(identity.error());
    market.tls = std::make_shared<const runtime::TlsIdentity>(std::move(*identity));
  }
  return market;
}

}  // namespace

std::expected<Market, std::string> open_market(const boost::program_options::variables_map& flags) {
  if (flags.count("compose")) return open_compose(flags["compose"].as<std::string>());
  return open_run(flags["run"].as<std::string>());
}

std::expected<void, std::string> freeze_node(const Market& market, const std::string& node,
                                             bool freeze) {
  if (const auto it = market.containers.find(node); it != market.containers.end()) {
    auto done = docker({freeze ? "pause" : "unpause", it->second});
    if (!done) return std::unexpected(done.error());
    return {};
  }
  const auto* record = market.state.find(node);
  if (record == nullptr || record->pid == 0 || !runtime::process_alive(record->pid)) {
    return std::unexpected("no live process '" + node + "' in this market");
  }
  if (::kill(record->pid, freeze ? SIGSTOP : SIGCONT) != 0) {
    return std::unexpected(node + ": " + std::strerror(errno));
  }
  return {};
}

std::expected<std::string, std::string> api_key(const Market& market, const std::string& account) {
  std::string where = market.run.accounts().string();
  const auto text = market_file(market, where);
  if (!text) return std::unexpected(text.error());
  if (!market.compose.empty()) where = market.compose + ":" + where;
  const auto keys = accounts::parse(*text, where);
  if (!keys) return std::unexpected(keys.error());
  if (auto key = accounts::key_of(*keys, account)) return *key;
  return std::unexpected("no account '" + account + "' in " + where +
                         " (the scenario's agents and '" + runtime::operator_account + "')");
}

}  // namespace mkt::marketctl
