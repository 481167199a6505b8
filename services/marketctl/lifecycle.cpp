// Starting and stopping a market: up, down, kill, restart.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli.h"
#include "client.h"
#include "mkt/accounts/accounts.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "supervisor.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The service binaries: beside marketctl in a build tree (services/<name>/<name>), in one
// folder when installed, or in --bin-dir.
std::expected<Binaries, std::string> find_binaries(const std::string& bin_dir) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec).parent_path();
  const auto find = [&](const std::string& name) -> std::expected<std::string, std::string> {
    std::vector<fs::path> candidates;
    if (!bin_dir.empty()) {
      candidates = {fs::path(bin_dir) / name};
    } else {
      candidates = {self.parent_path() / name / name, self / name};
    }
    for (const auto& path : candidates) {
      if (::access(path.c_str(), X_OK) == 0) return fs::absolute(path).string();
    }
    std::string looked;
    for (const auto& path : candidates) looked += " " + path.string();
    return std::unexpected("cannot find the " + name + " binary (looked at" + looked +
                           "): build it (`cmake --build --preset release`) or name its folder "
                           "with --bin-dir");
  };
  Binaries binaries;
  for (auto [name, out] :
       {std::pair{"netproxy", &binaries.netproxy}, std::pair{"exchanged", &binaries.exchanged},
        std::pair{"validatord", &binaries.validatord}, std::pair{"agentd", &binaries.agentd}}) {
    auto found = find(name);
    if (!found) return std::unexpected(found.error());
    *out = *found;
  }
  return binaries;
}

// The entries of a run folder that `up --fresh` removes: only what marketctl writes there.
constexpr const char* run_entries[] = {"scenario.yaml", "state", "addresses", "accounts", "epoch",
                                       "control.sock",  "logs",  "ports",     "data"};

bool has_previous_run(const runtime::RunPaths& run) {
  return fs::exists(run.state()) || fs::exists(run.dir / "data");
}

// The market's time 0, from which every agent computes the fundamental values: written at the
// first start of a run (<run>/epoch), read back on --resume so the market's clock goes on.
std::expected<std::int64_t, std::string> market_epoch(const runtime::RunPaths& run) {
  if (fs::exists(run.epoch())) {
    const auto text = runtime::read_file(run.epoch().string(), 64);
    if (!text) return std::unexpected(text.error());
    try {
      return std::stoll(*text);
    } catch (const std::exception&) {
      return std::unexpected(run.epoch().string() + " does not hold a time in ns: '" + *text + "'");
    }
  }
  const std::int64_t now = runtime::wall_clock_ns();
  auto written = runtime::write_file_atomically(run.epoch().string(), std::to_string(now) + "\n");
  if (!written) return std::unexpected(written.error());
  return now;
}

// Writes <run>/accounts with a fresh key for every agent and the operator; an existing file
// (--resume) keeps its keys and gains lines for accounts it lacks.
std::expected<void, std::string> write_accounts(const runtime::RunPaths& run,
                                                const scenario::Scenario& scenario) {
  std::string text;
  if (fs::exists(run.accounts())) {
    auto existing = runtime::read_file(run.accounts().string(), accounts::file_bytes_max);
    if (!existing) return std::unexpected(existing.error());
    text = *existing;
  } else {
    text =
        "# <account> <api key>: every agent of the scenario, and the operator (manual orders).\n"
        "# Clients send the key as gRPC metadata x-api-key.\n";
  }
  auto existing = accounts::parse(text, run.accounts().string());
  if (!existing) return std::unexpected(existing.error());
  std::vector<std::string> accounts;
  for (const auto* agent : scenario.nodes_with_role(scenario::Role::agent)) {
    accounts.push_back(agent->id);
  }
  accounts.push_back(runtime::operator_account);
  for (const auto& account : accounts) {
    if (std::ranges::any_of(*existing, [&](const auto& k) { return k.account == account; })) {
      continue;
    }
    text += account + " " + runtime::random_api_key() + "\n";
  }
  return runtime::write_file_atomically(run.accounts().string(), text, 0600);
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
      ("base-port", po::value<int>()->default_value(0),
       "give the nodes ports from this one up, in start order (0: each picks a free port)")
      ("sync", po::value<std::string>()->default_value("fsync"),
       "fsync: journals and logs reach the disk before anything is acknowledged; none: faster, "
       "survives kill -9 but not a power cut")
      ("topology", po::value<std::string>()->default_value(""),
       "run this topology of the scenario instead of its network.topology")
      ("bin-dir", po::value<std::string>()->default_value(""),
       "folder of exchanged, validatord, netproxy and agentd (default: beside marketctl)")
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
  if (auto ok = write_accounts(run, *scenario); !ok) {
    return fail("up", ok.error());
  }
  const auto epoch = market_epoch(run);
  if (!epoch) {
    return fail("up", epoch.error());
  }
  SupervisorOptions supervision{
      .launch = {.run = run,
                 .binaries = *binaries,
                 .sync = sync,
                 .topology = topology,
                 .epoch_ns = *epoch},
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

int node_request(int argc, char** argv, const std::string& verb, const std::string& usage) {
  po::options_description options(verb + " options");
  options.add_options()("node", po::value<std::string>()->required(), "the node id");
  po::positional_options_description positional;
  positional.add("node", 1);
  const auto vm = parse_command(argc, argv, usage, options, positional);
  if (!vm) return vm.error();
  auto market = open_market((*vm)["run"].as<std::string>());
  if (!market) {
    return fail(verb, market.error());
  }
  auto answer = control_request(market->run, verb + " " + (*vm)["node"].as<std::string>(), 120s);
  if (!answer) {
    return fail(verb, answer.error());
  }
  const bool ok = answer->starts_with("ok ");
  (ok ? std::cout : std::cerr) << answer->substr(answer->find(' ') + 1);
  return ok ? 0 : 1;
}

}  // namespace

int kill_command(int argc, char** argv) {
  return node_request(argc, argv, "kill",
                      "Usage: marketctl kill <node> [--run DIR]\n\n"
                      "Kills one process of the market with SIGKILL, as a crash would. It stays "
                      "down until\n`marketctl restart <node>`.\n");
}

int restart_command(int argc, char** argv) {
  return node_request(argc, argv, "restart",
                      "Usage: marketctl restart <node> [--run DIR]\n\n"
                      "Stops a process (SIGTERM) if it runs and starts it again on the same "
                      "ports, from its\njournal or write-ahead log. Returns once it serves.\n");
}

}  // namespace mkt::marketctl
