#pragma once
// The last post of a gRPC thread to an Asio executor (a call's end).
//
// Whoever that post wakes may destroy the io_context at once (a test's end, a process's exit).
// A strand copy that the gRPC thread destroys after that touches the dead io_context (a strand's
// destructor locks its service's mutex): it aborted a test once in CI. So the posted function
// waits, briefly, until the gRPC thread has let go of its copy (`executor`, reset here; the
// caller must hold no other).

#include <atomic>
#include <boost/asio/post.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

namespace mkt::runtime::detail {

template <class Executor, class Fn>
void post_last(std::optional<Executor>& executor, Fn fn) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  boost::asio::post(*executor, [released, fn = std::move(fn)]() mutable {
    while (!released->load(std::memory_order_acquire)) std::this_thread::yield();
    fn();
  });
  executor.reset();
  released->store(true, std::memory_order_release);
}

}  // namespace mkt::runtime::detail
