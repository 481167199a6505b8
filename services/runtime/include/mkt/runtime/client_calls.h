#pragma once
// The gRPC client calls of this process whose end has not been posted yet, and the post of that
// end.
//
// A call's end is the last thing a gRPC thread posts to an Asio executor (unary.h's async_unary,
// client_stream.h's open_bidi and open_reader). Whoever the end wakes may go on to destroy the
// io_context, and a strand copy that the gRPC thread destroys after that touches the dead
// io_context (a strand's destructor locks its service's mutex): it aborted a test once in CI. So
// the owner of an io_context waits, before destroying it, until ClientCalls is idle
// (ProcessRunner's destructor, the tests' IoThread); post_end lets go of the executor before it
// counts the call as ended.

#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

namespace mkt::runtime {

class ClientCalls {
 public:
  static ClientCalls& instance() {
    static ClientCalls calls;
    return calls;
  }
  void started() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void ended() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  // False when calls were still open after `limit`.
  bool wait_idle(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, limit, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  long count_ = 0;
};

namespace detail {

// Posts a call's end, resets the gRPC side's executor (the caller holds no other copy) and only
// then counts the call as ended.
template <class Executor, class Fn>
void post_end(std::optional<Executor>& executor, Fn fn) {
  boost::asio::post(*executor, std::move(fn));
  executor.reset();
  ClientCalls::instance().ended();
}

}  // namespace detail
}  // namespace mkt::runtime
