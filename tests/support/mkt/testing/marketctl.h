#pragma once
// Running the marketctl binary from a test, as a user does, and finding what a run left behind.
// The including target defines MARKETCTL_BINARY.

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "mkt/runtime/run_folder.h"
#include "mkt/testing/child_process.h"

namespace mkt::testing::marketctl {

namespace fs = std::filesystem;
using mkt::testing::ChildProcess;

inline ChildProcess start(const std::vector<std::string>& args) {
  std::vector<std::string> argv{MARKETCTL_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return ChildProcess(argv, ChildProcess::Capture::stdout_and_stderr);
}

struct Result {
  int code;
  std::string output;
};

inline Result marketctl(const std::vector<std::string>& args) {
  auto process = start(args);
  const int code = process.wait();
  return {code, process.output()};
}

inline std::string run_dir(const std::string& name) {
  // Short: the control socket's path must fit in sockaddr_un.
  const auto dir = fs::path("/tmp") / ("mctl-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir.string();
}

// Every live process of the run folder, by pid: the supervisor and nodes of its state file, and
// any process whose command line names the folder.
inline std::map<pid_t, std::string> leftovers(const std::string& run) {
  std::map<pid_t, std::string> found;
  if (auto state = mkt::runtime::read_state({run})) {
    if (mkt::runtime::process_alive(state->supervisor)) found[state->supervisor] = "supervisor";
    for (const auto& node : state->nodes) {
      if (mkt::runtime::process_alive(node.pid)) found[node.pid] = node.id;
    }
  }
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (pid != ::getpid() && cmdline.find(run) != std::string::npos &&
        mkt::runtime::process_alive(pid) && !found.contains(pid)) {
      found[pid] = cmdline.substr(0, cmdline.find('\0'));
    }
  }
  return found;
}

// Whether every node of the run's state stopped (on SIGTERM) with exit code 0; names the first
// that did not on stderr.
inline bool stopped_cleanly(const std::string& run) {
  const auto state = mkt::runtime::read_state({run});
  if (!state) return false;
  for (const auto& node : state->nodes) {
    if (node.state != runtime::NodeState::stopped || node.exit != 0) {
      std::fprintf(stderr, "%s: %s, exit %d\n", node.id.c_str(),
                   std::string(runtime::to_string(node.state)).c_str(), node.exit);
      return false;
    }
  }
  return true;
}

}  // namespace mkt::testing::marketctl
