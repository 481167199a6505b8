// Starting and stopping a market: up, down, kill, restart.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "cli.h"
#include "client.h"
#include "docker.h"
#include "mkt/accounts/accounts.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "run_setup.h"
#include "supervisor.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The entries of a run folder that `up --fresh` removes: only what marketctl writes there.
constexpr const char* run_entries[] = {"scenario.yaml", "state", "addresses", "accounts", "epoch",
                                       "control.sock",  "logs",  "ports",     "data",     "tls"};

bool has_previous_run(const runtime::RunPaths& run) {
  return fs::exists(run.state()) || fs::exists(run.dir / "data");
}

// Waits until `pid` is gone (it is not our child: poll).
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (runtime::process_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// Runs the supervisor in a daemon child. The parent relays its progress until every node serves
// (or the start fails), then returns: 0 when the market runs.
int detach_and_supervise(const scenario::Scenario& scenario, const SupervisorOptions& options) {
  const auto& run = options.launch.run;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return fail("up", "pipe failed");
  }
  const pid_t child = ::fork();
  if (child < 0) {
    return fail("up", "fork failed");
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::setsid();
    const int log = ::open(run.supervisor_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null = ::open("/dev/null", O_RDONLY);
    if (log < 0 || null < 0) ::_exit(1);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::close(null);
    ::close(log);
    // Nothing of the caller's (a terminal's or a test's pipes) stays open in the daemon.
    const int keep = pipe_fds[1];
    if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
    ::close_range(static_cast<unsigned>(keep) + 1, ~0u, 0);
    Progress progress;
    progress.add(1);
    progress.add(keep);
    const int code = supervise(scenario, options, progress, [&] {
      progress.line("running in the background; stop it with `marketctl down --run " +
                    run.dir.string() + "`");
      progress.remove(keep);
      ::close(keep);
    });
    std::cout.flush();
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  char buffer[4096];
  for (;;) {
    const auto n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n <= 0) break;
    std::cout.write(buffer, n);
    std::cout.flush();
  }
  ::close(pipe_fds[0]);
  const auto state = runtime::read_state(run);
  return state && state->phase == "running" ? 0 : 1;
}

}  // namespace

int up_command(int argc, char** argv) {
  po::options_description options("up options");
  // clang-format off
  options.add_options()
      ("scenario", po::value<std::string>()->required(), "the scenario file")
      ("detach,d", "start in the background and return once every node serves")
      ("fresh", "delete what an earlier run left in the run folder (journals, logs) first")
      ("resume", "continue from an earlier run's journals and write-ahead logs")
      ("no-agents", "start everything but the agents (their accounts exist, for manual orders)")
      ("tls", "mutual TLS on every gRPC link: a CA for the run and a certificate per node in "
              "<run>/tls; each server checks who calls (a run started so stays so on --resume)")
      ("base-port", po::value<int>()->default_value(0),
       "give the nodes ports from this one up, in start order (0: each picks a free port)")
      ("sync", po::value<std::string>()->default_value("fsync"),
       "fsync: journals and logs reach the disk before anything is acknowledged; none: faster, "
       "survives kill -9 but not a power cut")
      ("topology", po::value<std::string>()->default_value(""),
       "run this topology of the scenario instead of its network.topology")
      ("bin-dir", po::value<std::string>()->default_value(""),
       "folder of exchanged, validatord, netproxy, agentd and monitord (default: beside marketctl)")
      ("start-timeout", po::value<int>()->default_value(30),
       "seconds for every node to serve and a leader to be elected");
  // clang-format on
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl up <scenario.yaml> [--detach] [--run DIR] [options]\n\n"
      "Starts every node of the scenario as a local process on runtime::loopback (the proxy, the "
      "validators,\nthe exchanges, the agents), waits until each serves and a Raft leader is "
      "elected, and\nsupervises them.\nCtrl-C stops everything; with --detach, `marketctl down` "
      "does. Each "
      "process's log is in\n<run>/logs. Nothing is restarted by itself.\n",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  if (flags.count("fresh") && flags.count("resume")) {
    return fail("up", "--fresh and --resume exclude each other", 2);
  }
  const auto sync = flags["sync"].as<std::string>();
  if (sync != "fsync" && sync != "none") {
    return fail("up", "--sync must be fsync or none, not '" + sync + "'", 2);
  }
  const int base_port = flags["base-port"].as<int>();
  if (base_port < 0 || base_port > 65535) {
    return fail("up", "--base-port must be 0 or a port number", 2);
  }
  const auto scenario_path = flags["scenario"].as<std::string>();
  const auto topology = flags["topology"].as<std::string>();
  auto scenario = runtime::load_scenario_file(scenario_path, topology);
  if (!scenario) {
    std::cerr << scenario.error() << "\n";
    return 1;
  }
  const auto run_dir = flags["run"].as<std::string>();
  const runtime::RunPaths run{fs::absolute(run_dir)};
  if (auto previous = runtime::read_state(run);
      previous && runtime::process_alive(previous->supervisor) && previous->phase != "stopped") {
    return fail("up", "a market (" + previous->scenario + ") is already running in " + run_dir +
                          " (supervisor pid " + std::to_string(previous->supervisor) +
                          "): stop it with `marketctl down --run " + run_dir +
                          "`, or start this one with another --run");
  }
  if (has_previous_run(run)) {
    if (flags.count("fresh")) {
      for (const auto* entry : run_entries) fs::remove_all(run.dir / entry);
    } else if (!flags.count("resume")) {
      return fail("up", run_dir +
                            " holds an earlier run (journals, logs): add --resume to continue "
                            "from it, --fresh to delete it, or choose another --run");
    }
  }
  auto binaries = find_binaries(flags["bin-dir"].as<std::string>());
  if (!binaries) {
    return fail("up", binaries.error());
  }
  std::error_code ec;
  fs::create_directories(run.logs(), ec);
  if (ec) {
    return fail("up", "cannot create " + run.logs().string() + ": " + ec.message());
  }
  auto text = runtime::read_file(scenario_path, scenario::file_bytes_max);
  if (!text) {
    return fail("up", text.error());
  }
  if (auto ok = runtime::write_file_atomically(run.scenario().string(), *text); !ok) {
    return fail("up", ok.error());
  }
  const bool tls = flags.count("tls") != 0 || tls_run(run);
  if (auto ok = write_credentials(run, *scenario, tls); !ok) {
    return fail("up", ok.error());
  }
  const auto epoch = market_epoch(run);
  if (!epoch) {
    return fail("up", epoch.error());
  }
  SupervisorOptions supervision{
      .launch = {.run = run, .binaries = *binaries, .sync = sync, .topology = topology, .tls = tls},
      .plan = {.agents = flags.count("no-agents") == 0},
      .base_port = base_port,
      .start_timeout = std::chrono::seconds(flags["start-timeout"].as<int>()),
  };
  if (flags.count("detach")) return detach_and_supervise(*scenario, supervision);
  Progress progress;
  progress.add(1);
  return supervise(*scenario, supervision, progress,
                   [&] { progress.line("Ctrl-C stops it; `marketctl status` shows it."); });
}

int down_command(int argc, char** argv) {
  po::options_description options("down options");
  options.add_options()("timeout", po::value<int>()->default_value(30),
                        "seconds to wait for everything to stop");
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl down [--run DIR]\n\n"
      "Stops a market started with `marketctl up --detach`: every process gets SIGTERM (the\n"
      "exchanges first, the proxy last) and SIGKILL if it has not exited within 10 s. Returns\n"
      "once no process of the run is left.\n",
      options, {});
  if (!vm) return vm.error();
  const auto run_dir = (*vm)["run"].as<std::string>();
  const runtime::RunPaths run{fs::absolute(run_dir)};
  auto state = runtime::read_state(run);
  if (!state) {
    return fail("down", state.error());
  }
  const auto timeout = std::chrono::seconds((*vm)["timeout"].as<int>());
  if (runtime::process_alive(state->supervisor)) {
    auto answer = control_request(run, "stop", 5s);
    if (!answer) ::kill(state->supervisor, SIGTERM);  // the socket is gone: the signal stops it too
    if (!wait_gone(state->supervisor, timeout)) {
      std::cerr << "marketctl down: the supervisor (pid " << state->supervisor
                << ") did not stop within " << timeout.count()
                << " s; killing it (its processes die with it)\n";
      ::kill(state->supervisor, SIGKILL);
      wait_gone(state->supervisor, 5s);
    }
  } else {
    std::cout << "no supervisor runs in " << run_dir << "; checking for leftovers\n";
  }
  // Children die with their supervisor (PR_SET_PDEATHSIG); make sure of it.
  int left = 0;
  for (const auto& node : state->nodes) {
    if (node.pid > 0 && runtime::process_alive(node.pid)) {
      std::cerr << "marketctl down: " << node.id << " (pid " << node.pid
                << ") outlived its supervisor: SIGKILL\n";
      ::kill(node.pid, SIGKILL);
      if (!wait_gone(node.pid, 5s)) ++left;
    }
  }
  if (left != 0) {
    return fail("down", std::to_string(left) + " processes are still there");
  }
  std::cout << "market " << state->scenario << " in " << run_dir << " is down\n";
  return 0;
}

namespace {

// Waits until a restarted container's health check passes.
std::expected<void, std::string> wait_healthy(const std::string& container,
                                              std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto health =
        docker({"inspect", "--format",
                "{{.State.Status}} {{with index .State \"Health\"}}{{.Status}}{{end}}", container});
    if (!health) return std::unexpected(health.error());
    if (health->starts_with("running healthy") || *health == "running \n") return {};
    if (!health->starts_with("running")) {
      return std::unexpected("the container stopped again (" + *health + "): see docker logs");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return std::unexpected("not healthy within " + std::to_string(timeout.count()) + " s");
    }
    std::this_thread::sleep_for(200ms);
  }
}

// A command on one container of a compose market: the docker verbs of each marketctl verb.
int container_request(const Market& market, const std::string& verb, const std::string& node) {
  const auto it = market.containers.find(node);
  if (it == market.containers.end()) {
    std::string known;
    for (const auto& [id, container] : market.containers) known += " " + id;
    return fail(verb,
                "no container '" + node + "' in " + market.compose + "; its nodes are:" + known);
  }
  const auto& container = it->second;
  const auto* record = market.state.find(node);
  std::expected<std::string, std::string> done;
  if (verb == "kill") {
    done = docker({"kill", "--signal", "KILL", container});
  } else if (verb == "restart") {
    done = docker({record->state == runtime::NodeState::exited ? "start" : "restart", container});
  } else if (verb == "disconnect") {
    done = docker({"network", "disconnect", market.network, container});
  } else {  // connect: back under its service name, which the others resolve
    done = docker({"network", "connect", "--alias", node, market.network, container});
  }
  if (!done) return fail(verb, done.error());
  if (verb == "restart") {
    if (auto ok = wait_healthy(container, 120s); !ok) return fail(verb, node + ": " + ok.error());
  }
  const std::map<std::string, std::string> said{
      {"kill", "killed (SIGKILL); `marketctl restart` starts it again"},
      {"restart", "restarted and healthy"},
      {"disconnect", "disconnected from " + market.network + "; `marketctl connect` rejoins it"},
      {"connect", "connected to " + market.network}};
  std::cout << node << " " << said.at(verb) << "\n";
  return 0;
}

// pause and unpause, on a process (the supervisor none the wiser) or a container.
int freeze_request(const Market& market, const std::string& verb, const std::string& node) {
  if (auto done = freeze_node(market, node, verb == "pause"); !done) {
    return fail(verb, done.error());
  }
  std::cout << node
            << (verb == "pause"
                    ? " paused (frozen, its sockets open); `marketctl unpause` thaws it\n"
                    : " unpaused\n");
  return 0;
}

int node_request(int argc, char** argv, const std::string& verb, const std::string& usage) {
  po::options_description options(verb + " options");
  options.add_options()("node", po::value<std::string>()->required(), "the node id");
  po::positional_options_description positional;
  positional.add("node", 1);
  const auto vm = parse_command(argc, argv, usage, options, positional);
  if (!vm) return vm.error();
  auto market = open_market(*vm);
  if (!market) {
    return fail(verb, market.error());
  }
  const auto node = (*vm)["node"].as<std::string>();
  if (verb == "pause" || verb == "unpause") return freeze_request(*market, verb, node);
  if (!market->compose.empty()) return container_request(*market, verb, node);
  if (verb == "disconnect" || verb == "connect") {
    return fail(verb,
                "needs a compose market (--compose): local processes share one network; "
                "cut them with `marketctl partition`",
                2);
  }
  auto answer = control_request(market->run, verb + " " + node, 120s);
  if (!answer) {
    return fail(verb, answer.error());
  }
  const bool ok = answer->starts_with("ok ");
  (ok ? std::cout : std::cerr) << answer->substr(answer->find(' ') + 1);
  return ok ? 0 : 1;
}

}  // namespace

int node_command(int argc, char** argv) {
  struct Verb {
    std::string_view name;
    const char* usage;
  };
  static constexpr Verb verbs[] = {
      {"kill",
       "Usage: marketctl kill <node> [--run DIR | --compose P]\n\n"
       "Kills one process of the market with SIGKILL, as a crash would (docker kill for a\n"
       "container). It stays down until `marketctl restart <node>`.\n"},
      {"restart",
       "Usage: marketctl restart <node> [--run DIR | --compose P]\n\n"
       "Stops a process (SIGTERM) if it runs and starts it again on the same ports, from its\n"
       "journal or write-ahead log (docker start or restart for a container). Returns once it\n"
       "serves.\n"},
      {"pause",
       "Usage: marketctl pause <node> [--run DIR | --compose P]\n\n"
       "Freezes a process with its sockets open, the gray failure: SIGSTOP, or docker pause.\n"},
      {"unpause",
       "Usage: marketctl unpause <node> [--run DIR | --compose P]\n\n"
       "Thaws a paused process (SIGCONT, or docker unpause).\n"},
      {"disconnect",
       "Usage: marketctl disconnect <node> --compose P\n\n"
       "Takes a container off the compose network (docker network disconnect): a cut below\n"
       "the proxy, which sees connections fail rather than stall.\n"},
      {"connect",
       "Usage: marketctl connect <node> --compose P\n\n"
       "Puts a disconnected container back on the compose network, under its service name.\n"},
  };
  for (const auto& verb : verbs) {
    if (verb.name == argv[0]) return node_request(argc, argv, std::string(verb.name), verb.usage);
  }
  return fail(argv[0], "not a node command", 2);
}

}  // namespace mkt::marketctl
