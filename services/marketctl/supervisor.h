#pragma once
// The supervisor of a market started by `marketctl up`: the parent of every process of the run.
//
// It starts the plan's stages in order (each once the one before serves: a process serves when
// its ports file appears), waits for a Raft leader, then serves requests on the run's control
// socket (kill, restart, stop) until it is told to stop: SIGINT (Ctrl-C), SIGTERM, SIGHUP or a
// `stop` request. Stopping sends SIGTERM to the stages in reverse order and SIGKILL to what has
// not exited after the stop timeout. It restarts nothing by itself: a process that exits stays
// down until `marketctl restart`.
//
// No process outlives it: each child is started with PR_SET_PDEATHSIG = SIGKILL, so even a
// supervisor killed with SIGKILL takes its children along. Each child is in its own process group,
// so a Ctrl-C in the terminal reaches the supervisor only, which stops the children in order.
//
// Single-threaded by design: children are forked from this thread only (the death signal follows
// the thread that forked). Signals arrive through a signalfd.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "mkt/scenario/scenario.h"
#include "plan.h"

namespace mkt::marketctl {

struct SupervisorOptions {
  LaunchOptions launch;
  PlanOptions plan;
  int base_port = 0;  // 0: every port is picked free by its process
  std::chrono::milliseconds start_timeout{30'000};
  std::chrono::milliseconds stop_timeout{10'000};
};

// Where progress lines go: the terminal, and in detached mode the client's pipe and the log.
class Progress {
 public:
  void add(int fd) { fds_.push_back(fd); }
  void remove(int fd);
  void line(const std::string& text);

 private:
  std::vector<int> fds_;
};

// Starts the market and supervises it until told to stop. Returns 0 after a clean stop, 1 when
// the start failed (everything started is stopped again) or could not begin (a port in use).
// `on_started` runs once everything serves (detaching closes the client's pipe there).
int supervise(const scenario::Scenario& scenario, const SupervisorOptions& options,
              Progress& progress, const std::function<void()>& on_started);

}  // namespace mkt::marketctl
