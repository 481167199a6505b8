#pragma once
// The last post of a gRPC thread to an Asio executor (a call's end).
//
// Whoever that post wakes may destroy the io_context at once (a test's end, a process's exit).
// A strand copy that the gRPC thread destroys after that touches the dead io_context (a strand's
// destructor locks its service's mutex): it aborted a test once in CI. So the posted function
// waits, briefly, until the gRPC thread has let go of its copy (`executor`, reset here; the
// caller must hold no other). It ends the call's count in ClientCalls.

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace mkt::runtime {

// The gRPC client calls of this process whose end has not been posted yet (every call of
// unary.h's async_unary and client_stream.h's open_bidi and open_reader counts). Their ends post
// to an io_context, so that must outlive them: ProcessRunner's destructor waits for none to be
// left (the callers have cancelled theirs, or their deadlines pass).
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

template <class Executor, class Fn>
void post_last(std::optional<Executor>& executor, Fn fn) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  boost::asio::post(*executor, [released, fn = std::move(fn)]() mutable {
    while (!released->load(std::memory_order_acquire)) std::this_thread::yield();
    fn();
  });
  executor.reset();
  released->store(true, std::memory_order_release);
  ClientCalls::instance().ended();
}

}  // namespace detail
}  // namespace mkt::runtime
