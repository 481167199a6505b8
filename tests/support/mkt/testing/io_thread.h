#pragma once
// An io_context run on a thread of its own for a test, with a strand on it. stop() (or the
// destructor) stops it and joins the thread; declare it before what uses it, so that it is
// destroyed after. For the tests of services (which link mkt_runtime): the destructor waits for
// gRPC client calls to have posted their ends (mkt/runtime/client_calls.h) before the io_context
// goes.

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "mkt/runtime/client_calls.h"

namespace mkt::testing {

class IoThread {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  IoThread() : thread_([this] { io_.run(); }) {}
  ~IoThread() {
    stop();
    mkt::runtime::ClientCalls::instance().wait_idle(std::chrono::seconds(10));
  }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& io() { return io_; }
  const Strand& strand() const { return strand_; }

  // Runs fn on the strand (or on `executor`) and returns its result, waiting for it.
  template <class Fn>
  auto run(Fn fn) {
    return run_on(strand_, std::move(fn));
  }
  template <class Executor, class Fn>
  auto run_on(const Executor& executor, Fn fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    boost::asio::post(executor, [&task] { task(); });
    return result.get();
  }

  void stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    io_.stop();
    thread_.join();
  }

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  Strand strand_ = boost::asio::make_strand(io_);
  std::thread thread_;  // last: it starts once the rest is built
};

}  // namespace mkt::testing
