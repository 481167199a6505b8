#pragma once
// A service binary run as a real child process by a test: started with arguments, its stderr (or
// stdout and stderr together) read line by line until a line matches (so the test knows when it
// is serving, with no sleep), then drained on a thread and kept for failure messages. Killed
// (SIGKILL), stopped (SIGTERM) or waited for, and reaped; the destructor kills what is still
// running, so no process outlives its test.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mkt::testing {

class ChildProcess {
 public:
  enum class Capture { stderr_only, stdout_and_stderr };

  explicit ChildProcess(std::vector<std::string> argv, Capture capture = Capture::stderr_only) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(fds[1], STDERR_FILENO);
      if (capture == Capture::stdout_and_stderr) ::dup2(fds[1], STDOUT_FILENO);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    fd_ = fds[0];
  }

  ~ChildProcess() {
    if (running()) kill();
    if (drain_.joinable()) drain_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads stderr until a line matches `pattern` and returns the match and its groups, or nullopt
  // when the process ends or `timeout` passes first. Then keeps draining stderr on a thread.
  std::optional<std::vector<std::string>> wait_for_line(const std::string& pattern,
                                                        std::chrono::milliseconds timeout) {
    const std::regex re(pattern);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string pending;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) return std::nullopt;
      pending.append(buffer, static_cast<std::size_t>(n));
      for (std::size_t end; (end = pending.find('\n')) != std::string::npos;) {
        const std::string line = pending.substr(0, end);
        pending.erase(0, end + 1);
        append_output(line + "\n");
        std::smatch match;
        if (std::regex_search(line, match, re)) {
          append_output(pending);
          start_drain();
          return std::vector<std::string>(match.begin(), match.end());
        }
      }
    }
  }

  bool running() const { return pid_ > 0 && !exit_status_; }
  pid_t pid() const { return pid_; }
  void kill() { signal_and_wait(SIGKILL); }
  // SIGTERM, and the exit code (or 128 + signal).
  int terminate() {
    signal_and_wait(SIGTERM);
    return *exit_status_;
  }
  // Waits for the process to end by itself, and the exit code (or 128 + signal).
  int wait() {
    if (running()) {
      start_drain();
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (drain_.joinable()) drain_.join();  // the output to its end
    return *exit_status_;
  }
  // Sends a signal without waiting.
  void signal(int sig) {
    if (running()) ::kill(pid_, sig);
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    return output_;
  }

 private:
  void signal_and_wait(int sig) {
    if (!running()) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void start_drain() {
    if (drain_.joinable()) return;
    drain_ = std::thread([this] {
      char buffer[4096];
      for (ssize_t n; (n = ::read(fd_, buffer, sizeof buffer)) > 0;) {
        append_output(std::string(buffer, static_cast<std::size_t>(n)));
      }
    });
  }
  void append_output(const std::string& text) {
    std::lock_guard lock(mutex_);
    output_ += text;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::optional<int> exit_status_;
  std::thread drain_;
  std::mutex mutex_;
  std::string output_;
};

}  // namespace mkt::testing
