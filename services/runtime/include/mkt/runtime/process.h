#pragma once
// The life of a service process: one io_context, graceful shutdown on SIGINT or SIGTERM.
//
// run() runs the io_context on the calling thread until a signal or request_stop(). Stopping runs
// the stop hooks in the order added on a thread of its own (so that a hook may block, such as
// RpcServer::shutdown draining calls whose handlers need the io_context), then stops the
// io_context. run() returns 0 after a clean stop.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

namespace mkt::runtime {

class RpcServer;

// The strand that owns a service's core object (a Raft node, an agent, the proxy's control), when
// it is not a runtime::Serial. One name for it in every service.
using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

class ProcessRunner {
 public:
  ProcessRunner();
  ~ProcessRunner();
  ProcessRunner(const ProcessRunner&) = delete;
  ProcessRunner& operator=(const ProcessRunner&) = delete;

  boost::asio::io_context& io() { return io_; }
  Strand make_strand() { return boost::asio::make_strand(io_); }

  // Before run(). Hooks run in order, on the stopping thread.
  void on_stop(std::function<void()> hook) { hooks_.push_back(std::move(hook)); }
  // Adds a hook that runs `hook` on `strand` (the owner of what it stops: a strand, or a
  // runtime::Serial) and waits for it.
  void on_stop_in(boost::asio::any_io_executor strand, std::function<void()> hook);
  // Adds a hook that shuts the server down, draining calls for up to `drain`.
  void stop_server_on_stop(RpcServer& server, std::chrono::milliseconds drain);

  int run();
  // Thread-safe; the same as receiving SIGTERM.
  void request_stop();

 private:
  void begin_stop();

  boost::asio::io_context io_{1};
  boost::asio::signal_set signals_;
  std::vector<std::function<void()>> hooks_;
  std::thread stopper_;
  bool stopping_ = false;  // on the io_context thread only
};

}  // namespace mkt::runtime
