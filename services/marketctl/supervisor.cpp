#include "supervisor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "client.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/runtime/files.h"

namespace mkt::marketctl {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using scenario::Role;

std::string describe_exit(int code) {
  if (code >= 128) {
    const int sig = code - 128;
    const char* name = sigabbrev_np(sig);
    return "killed by SIG" + std::string(name ? name : std::to_string(sig).c_str());
  }
  return "exit code " + std::to_string(code);
}

// The last `lines` lines of a file, indented, for an error message.
std::string tail(const std::filesystem::path& path, std::size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> kept;
  for (std::string line; std::getline(in, line);) {
    kept.push_back(line);
    if (kept.size() > lines) kept.pop_front();
  }
  std::string out;
  for (const auto& line : kept) out += "    | " + line + "\n";
  return out;
}

// Whether something already listens on 127.0.0.1:port (a bind that fails with EADDRINUSE).
bool port_in_use(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool in_use =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return in_use;
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) {
      const auto w = ::write(fd, text.data() + done, text.size() - done);
      if (w <= 0) return;
      done += static_cast<std::size_t>(w);
      continue;
    }
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

bool live(const runtime::NodeRecord& rec) {
  return rec.pid > 0 &&
         (rec.state == runtime::NodeState::starting || rec.state == runtime::NodeState::running);
}

// Signals a supervised process. Never with pid <= 0: kill(0) would signal our own group.
void signal_process(const runtime::NodeRecord& rec, int sig) {
  if (rec.pid > 0) ::kill(rec.pid, sig);
}

struct Proc {
  const scenario::Node* node = nullptr;
  std::size_t stage = 0;
  bool stop_requested = false;  // a kill, restart or stop by us: its exit is expected
};

class Supervisor {
 public:
  Supervisor(const scenario::Scenario& scenario, const SupervisorOptions& options,
             Progress& progress)
      : scenario_(scenario), options_(options), run_(options.launch.run), progress_(progress) {}

  ~Supervisor() {
    if (signal_fd_ >= 0) ::close(signal_fd_);
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
      std::filesystem::remove(run_.control_socket());
    }
  }

  int run(const std::function<void()>& on_started) {
    if (auto ok = setup(); !ok) {
      progress_.line("marketctl: " + ok.error());
      finish("stopped");
      return 1;
    }
    const bool started = start();
    if (!started) {
      stop_all();
      finish("stopped");
      return 1;
    }
    state_.phase = "running";
    write_state();
    summary();
    on_started();
    serve();
    stop_all();
    finish("stopped");
    progress_.line("market " + scenario_.name + " stopped; logs in " + run_.logs().string());
    return 0;
  }

 private:
  std::expected<void, std::string> setup() {
    sigset_t mask;
    sigemptyset(&mask);
    for (int sig : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) {
      sigaddset(&mask, sig);
      // An ignored signal is dropped before it can be read (a shell's background job starts
      // with SIGINT ignored): back to the default, which blocking then turns into reading.
      ::signal(sig, SIG_DFL);
    }
    // Blocked before any thread exists (gRPC's come later and inherit the mask), so every one of
    // these signals is read from the signalfd.
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    // A terminal or pipe that goes away must not kill the supervisor while it has children.
    ::signal(SIGPIPE, SIG_IGN);
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) return std::unexpected(std::string("signalfd: ") + std::strerror(errno));

    state_.supervisor = ::getpid();
    state_.scenario = scenario_.name;
    plan_ = start_plan(scenario_, options_.plan);
    if (options_.base_port != 0) fixed_ = fixed_ports(plan_, options_.base_port);
    for (std::size_t s = 0; s < plan_.stages.size(); ++s) {
      for (const auto* node : plan_.stages[s]) {
        procs_.push_back({.node = node, .stage = s});
        state_.nodes.push_back(
            {.id = node->id, .role = std::string(to_string(node->role)), .ports = {}});
      }
    }
    for (const auto& [node, ports] : fixed_) {
      for (const auto& [name, port] : ports) {
        if (port > 65535) {
          return std::unexpected("--base-port " + std::to_string(options_.base_port) +
                                 " leaves no room for every node's ports (they would reach " +
                                 std::to_string(port) + ")");
        }
        if (port_in_use(port)) {
          return std::unexpected("port " + std::to_string(port) + " (" + node + "'s " + name +
                                 " port) is in use: find its owner with `ss -ltnp 'sport = :" +
                                 std::to_string(port) + "'`, or choose another --base-port");
        }
      }
    }
    std::vector<std::filesystem::path> dirs{run_.logs(), run_.ports()};
    for (const auto& proc : procs_) dirs.push_back(run_.data(proc.node->id));
    for (const auto& dir : dirs) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return std::unexpected("cannot create " + dir.string() + ": " + ec.message());
    }
    return open_control_socket();
  }

  std::expected<void, std::string> open_control_socket() {
    const auto path = run_.control_socket().string();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
      return std::unexpected("the control socket path " + path + " is longer than " +
                             std::to_string(sizeof addr.sun_path - 1) +
                             " characters: choose a shorter --run folder");
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    std::filesystem::remove(path);  // a stale one from a supervisor that was killed
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Only this user may kill and restart the market's processes: mode 0600 before it listens
    // (nobody can connect to a socket that does not listen yet).
    if (listen_fd_ < 0 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::chmod(path.c_str(), 0600) != 0 || ::listen(listen_fd_, 8) != 0) {
      return std::unexpected("cannot listen on " + path + ": " + std::strerror(errno));
    }
    return {};
  }

  void write_state() {
    if (auto ok =
            runtime::write_file_atomically(run_.state().string(), runtime::format_state(state_));
        !ok) {
      progress_.line("marketctl: " + ok.error());
    }
  }

  void write_addresses() {
    if (auto ok = runtime::write_file_atomically(run_.addresses().string(),
                                                 runtime::format_addresses(state_.nodes));
        !ok) {
      progress_.line("marketctl: " + ok.error());
    }
  }

  void finish(const std::string& phase) {
    state_.phase = phase;
    write_state();
  }

  runtime::NodeRecord& record(std::size_t i) { return state_.nodes[i]; }

  std::optional<std::size_t> find(const std::string& id) const {
    for (std::size_t i = 0; i < procs_.size(); ++i) {
      if (procs_[i].node->id == id) return i;
    }
    return std::nullopt;
  }

  std::string proxy_address() const {
    for (const auto& node : state_.nodes) {
      if (node.role == "proxy" && node.port("proxy") != 0)
        return runtime::loopback(node.port("proxy"));
    }
    return {};
  }

  // Says that process i exited while it was awaited, and quotes the end of its log.
  void report_exit(std::size_t i, const std::string& when) {
    const auto& rec = record(i);
    progress_.line("  " + rec.id + " exited " + when + " (" + describe_exit(rec.exit) +
                   "); the end of " + run_.log(rec.id).string() + ":\n" +
                   tail(run_.log(rec.id), 12));
  }

  // Forks and execs process i with its log as stdout and stderr.
  bool spawn(std::size_t i) {
    auto& proc = procs_[i];
    auto& rec = record(i);
    // A restart reuses the ports the process had, so that everyone's addresses stay true (the
    // exchanges' --ledger list is fixed at their start).
    runtime::Ports listen = rec.ports;
    if (listen.empty()) {
      if (auto it = fixed_.find(rec.id); it != fixed_.end()) listen = it->second;
    }
    const auto args = command_line(scenario_, *proc.node, options_.launch, listen,
                                   runtime::grpc_addresses(state_.nodes), proxy_address());
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    std::filesystem::remove(run_.ports_file(rec.id));
    const int log =
        ::open(run_.log(rec.id).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log < 0 || null < 0) {
      progress_.line("marketctl: cannot open " + run_.log(rec.id).string() + ": " +
                     std::strerror(errno));
      if (log >= 0) ::close(log);
      if (null >= 0) ::close(null);
      return false;
    }
    std::string header = "==== marketctl: starting";
    for (const auto& a : args) header += " " + a;
    write_all(log, header + "\n");

    const pid_t parent = ::getpid();
    sigset_t empty;
    sigemptyset(&empty);
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls from here to exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the supervisor died before the prctl
      ::setpgid(0, 0);
      for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
      ::sigprocmask(SIG_SETMASK, &empty, nullptr);
      ::dup2(null, 0);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execv(argv[0], argv.data());
      const char message[] = "==== marketctl: exec failed\n";
      [[maybe_unused]] auto n = ::write(2, message, sizeof message - 1);
      ::_exit(127);
    }
    ::close(log);
    ::close(null);
    if (pid < 0) {
      progress_.line("marketctl: fork failed: " + std::string(std::strerror(errno)));
      return false;
    }
    proc.stop_requested = false;
    rec.pid = pid;
    rec.state = runtime::NodeState::starting;
    rec.exit = 0;
    write_state();
    return true;
  }

  // Reaps every child that exited.
  void reap() {
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      for (std::size_t i = 0; i < procs_.size(); ++i) {
        auto& rec = record(i);
        if (rec.pid != pid) continue;
        rec.exit = code;
        const bool expected = procs_[i].stop_requested;
        rec.state = !expected ? runtime::NodeState::exited
                    : code == 128 + SIGKILL && state_.phase != "stopping"
                        ? runtime::NodeState::killed
                        : runtime::NodeState::stopped;
        if (!expected && state_.phase == "running") {
          progress_.line(rec.id + " exited (" + describe_exit(code) +
                         "); it is not restarted: `marketctl restart " + rec.id + "`");
        }
        write_state();
      }
    }
  }

  // Waits up to `timeout` for a signal or (when serving) a control connection, and handles
  // signals. Returns true when the control socket is readable.
  bool pump(std::chrono::milliseconds timeout, bool serving = false) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    const int n = ::poll(fds, serving ? 2 : 1, static_cast<int>(timeout.count()));
    if (n <= 0) return false;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGCHLD) continue;
        if (!stop_requested_) {
          progress_.line(
              "marketctl: " + std::string(sigdescr_np(static_cast<int>(info.ssi_signo))) +
              ": stopping the market");
        }
        stop_requested_ = true;
      }
      reap();
    }
    return serving && (fds[1].revents & POLLIN);
  }

  // Waits until each of `which` serves. On failure says why and returns false.
  bool wait_serving(const std::vector<std::size_t>& which, Clock::time_point deadline) {
    std::vector<bool> ready(which.size(), false);
    for (;;) {
      reap();
      std::size_t left = 0;
      for (std::size_t k = 0; k < which.size(); ++k) {
        if (ready[k]) continue;
        auto& rec = record(which[k]);
        if (rec.state != runtime::NodeState::starting) {
          report_exit(which[k], "while starting");
          return false;
        }
        auto text = runtime::read_file(run_.ports_file(rec.id).string(), 4096);
        auto ports = text ? runtime::parse_ports(*text) : std::unexpected(std::string());
        if (!ports) {
          ++left;
          continue;
        }
        ready[k] = true;
        rec.ports = *ports;
        rec.state = runtime::NodeState::running;
        write_state();
        write_addresses();
        std::string where;
        for (const auto& [name, port] : rec.ports) {
          where += (where.empty() ? "" : ", ") + name + " " + std::to_string(port);
        }
        progress_.line("  " + rec.id + " (" + rec.role + ") serving: pid " +
                       std::to_string(rec.pid) + ", " + where);
      }
      if (left == 0) return true;
      if (stop_requested_) return false;
      if (Clock::now() > deadline) {
        for (std::size_t k = 0; k < which.size(); ++k) {
          if (ready[k]) continue;
          const auto& rec = record(which[k]);
          progress_.line("  " + rec.id + " did not serve within " +
                         std::to_string(options_.start_timeout.count()) + " ms; the end of " +
                         run_.log(rec.id).string() + ":\n" + tail(run_.log(rec.id), 12));
        }
        return false;
      }
      pump(20ms);
    }
  }

  // Asks the validators for the cluster's status until one names a leader.
  bool wait_leader(const std::vector<std::size_t>& validators, Clock::time_point deadline) {
    progress_.line("  waiting for a Raft leader...");
    std::vector<std::unique_ptr<market::ledger::v1::Ledger::Stub>> stubs;
    const auto tls = operator_identity(run_);
    if (!tls) {
      progress_.line("  " + tls.error());
      return false;
    }
    for (auto i : validators) {
      stubs.push_back(market::ledger::v1::Ledger::NewStub(
          direct_channel(record(i).port("grpc"), *tls, record(i).id)));
    }
    while (!stop_requested_) {
      for (std::size_t k = 0; k < stubs.size(); ++k) {
        if (record(validators[k]).state != runtime::NodeState::running) continue;
        grpc::ClientContext context;
        context.set_deadline(deadline_in(250ms));
        market::ledger::v1::ClusterStatus status;
        if (stubs[k]->GetClusterStatus(&context, {}, &status).ok() && !status.leader_id().empty()) {
          progress_.line("  raft: " + status.leader_id() + " leads (term " +
                         std::to_string(status.term()) + ")");
          return true;
        }
      }
      if (Clock::now() > deadline) {
        progress_.line("  no Raft leader within " + std::to_string(options_.start_timeout.count()) +
                       " ms; see the validators' logs in " + run_.logs().string());
        return false;
      }
      reap();
      for (auto i : validators) {
        if (record(i).state != runtime::NodeState::running) {
          report_exit(i, "before a leader was elected");
          return false;
        }
      }
      pump(50ms);
    }
    return false;
  }

  bool start() {
    progress_.line("starting market " + scenario_.name + " in " + run_.dir.string() + " (" +
                   std::to_string(procs_.size()) + " processes)");
    for (const auto& [node, why] : plan_.skipped) {
      progress_.line("  " + node->id + " (" + std::string(to_string(node->role)) +
                     ") not started: " + why);
    }
    const auto deadline = Clock::now() + options_.start_timeout;
    for (std::size_t s = 0; s < plan_.stages.size(); ++s) {
      std::vector<std::size_t> stage;
      for (std::size_t i = 0; i < procs_.size(); ++i) {
        if (procs_[i].stage != s) continue;
        if (!spawn(i)) return false;
        stage.push_back(i);
      }
      if (!wait_serving(stage, deadline)) return false;
      if (procs_[stage.front()].node->role == Role::validator && !wait_leader(stage, deadline)) {
        return false;
      }
    }
    return !stop_requested_;
  }

  void summary() {
    progress_.line("market " + scenario_.name + " is up: " + std::to_string(procs_.size()) +
                   " processes, logs in " + run_.logs().string());
    for (const auto& rec : state_.nodes) {
      if (rec.role == "proxy") {
        progress_.line("  network: http://" + runtime::loopback(rec.port("http")) +
                       "/v1/links (links), /v1/stats, /metrics; control gRPC on port " +
                       std::to_string(rec.port("control")));
      } else if (rec.role == "monitor") {
        progress_.line("  dashboard: http://" + runtime::loopback(rec.port("metrics")) +
                       "/ (JSON: /api/state, /api/alerts, /api/history, /api/events)");
      } else if (rec.role == "exchange") {
        progress_.line("  " + rec.id + ": orders at " + runtime::loopback(rec.port("grpc")) +
                       ", metrics at http://" + runtime::loopback(rec.port("metrics")) +
                       "/metrics");
      }
    }
    progress_.line("  at a glance: `marketctl status --run " + run_.dir.string() + "`");
    progress_.line("  API keys of the accounts: " + run_.accounts().string());
  }

  void serve() {
    while (!stop_requested_) {
      if (pump(1h, true)) handle_connection();
    }
  }

  void handle_connection() {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    const timeval timeout{.tv_sec = 2, .tv_usec = 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string request;
    char buffer[512];
    while (request.find('\n') == std::string::npos && request.size() < 4096) {
      const auto n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      request.append(buffer, static_cast<std::size_t>(n));
    }
    if (auto nl = request.find('\n'); nl != std::string::npos) request.resize(nl);
    write_all(fd, answer(request));
    ::close(fd);
  }

  // One request: "kill <node>", "restart <node>", "stop", "ping". The answer's first word is
  // "ok" or "error".
  std::string answer(const std::string& request) {
    std::istringstream in(request);
    std::string verb, id;
    in >> verb >> id;
    if (verb == "ping") return "ok " + std::to_string(::getpid()) + "\n";
    if (verb == "stop") {
      stop_requested_ = true;
      progress_.line("marketctl: asked to stop: stopping the market");
      return "ok stopping\n";
    }
    if (verb != "kill" && verb != "restart") return "error unknown request '" + verb + "'\n";
    const auto i = find(id);
    if (!i) {
      std::string known;
      for (const auto& rec : state_.nodes) known += " " + rec.id;
      return "error no process '" + id + "' in this run; its processes are:" + known + "\n";
    }
    auto& rec = record(*i);
    if (verb == "kill") {
      if (!live(rec)) {
        return "error " + id + " is not running (" + std::string(to_string(rec.state)) + ")\n";
      }
      const auto pid = rec.pid;
      procs_[*i].stop_requested = true;
      signal_process(rec, SIGKILL);
      wait_exit(*i, options_.stop_timeout);
      progress_.line("marketctl: killed " + id + " (pid " + std::to_string(pid) + ")");
      return "ok killed " + id + " (pid " + std::to_string(pid) + ")\n";
    }
    if (live(rec)) {
      procs_[*i].stop_requested = true;
      signal_process(rec, SIGTERM);
      if (!wait_exit(*i, options_.stop_timeout)) {
        signal_process(rec, SIGKILL);
        wait_exit(*i, options_.stop_timeout);
      }
    }
    ++rec.restarts;
    progress_.line("marketctl: restarting " + id);
    if (!spawn(*i) || !wait_serving({*i}, Clock::now() + options_.start_timeout)) {
      return "error " + id + " did not come back; see " + run_.log(id).string() + "\n" +
             tail(run_.log(id), 12);
    }
    return "ok restarted " + id + " (pid " + std::to_string(rec.pid) + ")\n";
  }

  // Waits until process i has been reaped; false after `timeout`.
  bool wait_exit(std::size_t i, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      reap();
      if (!live(record(i))) return true;
      if (Clock::now() > deadline) return false;
      pump(10ms);
    }
  }

  void stop_all() {
    state_.phase = "stopping";
    write_state();
    for (std::size_t s = plan_.stages.size(); s-- > 0;) {
      std::vector<std::size_t> stopping;
      for (std::size_t i = 0; i < procs_.size(); ++i) {
        if (procs_[i].stage != s || !live(record(i))) continue;
        procs_[i].stop_requested = true;
        signal_process(record(i), SIGTERM);
        stopping.push_back(i);
      }
      const auto deadline = Clock::now() + options_.stop_timeout;
      for (auto i : stopping) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(deadline - Clock::now(), Clock::duration::zero()));
        if (wait_exit(i, left)) continue;
        progress_.line("  " + record(i).id + " did not stop within " +
                       std::to_string(options_.stop_timeout.count()) + " ms: SIGKILL");
        signal_process(record(i), SIGKILL);
        wait_exit(i, options_.stop_timeout);
      }
    }
  }

  const scenario::Scenario& scenario_;
  const SupervisorOptions& options_;
  runtime::RunPaths run_;
  Progress& progress_;
  StartPlan plan_;
  std::map<std::string, runtime::Ports> fixed_;
  std::vector<Proc> procs_;  // parallel to state_.nodes
  runtime::RunState state_;
  int signal_fd_ = -1;
  int listen_fd_ = -1;
  bool stop_requested_ = false;
};

}  // namespace

void Progress::remove(int fd) {
  std::erase(fds_, fd);
}

void Progress::line(const std::string& text) {
  for (int fd : fds_) write_all(fd, text + "\n");
}

int supervise(const scenario::Scenario& scenario, const SupervisorOptions& options,
              Progress& progress, const std::function<void()>& on_started) {
  Supervisor supervisor(scenario, options, progress);
  return supervisor.run(on_started);
}

}  // namespace mkt::marketctl
