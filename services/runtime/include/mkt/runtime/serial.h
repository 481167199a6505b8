#pragma once
// An executor that runs its work one piece at a time and in order, like a strand on an io_context,
// except that a thread which finds it idle may run work in place (run_here_or_post) instead of
// handing it to the io_context's thread.
//
// Why: a request that a gRPC thread reads and posts to a strand costs a wake-up of the io thread
// before anything looks at it. When the owner (the exchange's venue, say) is idle, the reading
// thread can run it at once, and the answer's write starts on that gRPC thread, as in gRPC's own
// echo. On this project's 2-core VM that takes about 30 us off an idle order session's round trip
// (exchanged_session_bench, ping-pong).
//
// Idle means nothing runs or waits here, and nothing has for `in_place_after` (20 us unless
// given). Under a steady load, requests come every few microseconds; running each in place then
// costs throughput (a gRPC thread that runs the owner's work is not reading, and the io thread no
// longer works beside it): one request per message gave 71-80k acks/s in place against 100-123k
// through the io thread (exchanged_session_bench, in the same runs). An idle session's next request
// comes a client's round trip after the last answer, tens of microseconds, so it still goes in
// place. Work that does not go in place queues behind what waits, and the order is always the order
// of arrival.
//
// Everything else is as with a strand: boost::asio::post, timers and any_io_executor all work, and
// their work goes to the queue (never run inside the call that submits it). The queue is run by
// the io_context's thread, or by a thread that went in place: that thread also runs what was
// queued meanwhile (such as a completion its own work posted), up to a bound, and then hands the
// rest to the io_context. A task must not throw: the process ends (std::terminate) if one does.

#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace mkt::runtime {

namespace detail {
struct SerialState;
}

class Serial {
 public:
  using Task = std::move_only_function<void()>;

  // Work goes in place only once the executor has been idle for `in_place_after` (see above).
  explicit Serial(boost::asio::io_context& io,
                  std::chrono::nanoseconds in_place_after = std::chrono::microseconds(20));

  // Runs `task` now on the calling thread if the executor is idle (above), else queues it. Returns
  // once it ran or was queued. `placed` runs first in both cases, as soon as the task's place in
  // the order is fixed (a stream starts its next read there, which may then complete, and queue,
  // while the task runs).
  template <class Placed>
  void run_here_or_post(Task task, Placed placed) const {
    const bool here = claim_or_queue(task);
    placed();
    if (here) run_claimed(task);
  }
  void run_here_or_post(Task task) const {
    run_here_or_post(std::move(task), [] {});
  }
  // True on a thread that is running this executor's work.
  bool running_in_this_thread() const noexcept;

  // The standard executor interface (what post, timers and any_io_executor ask of it).
  template <class F>
  void execute(F&& f) const {
    post(Task(std::forward<F>(f)));
  }
  boost::asio::io_context& query(boost::asio::execution::context_t) const noexcept;
  static constexpr boost::asio::execution::blocking_t query(
      boost::asio::execution::blocking_t) noexcept {
    return boost::asio::execution::blocking.never;
  }
  Serial require(boost::asio::execution::blocking_t::never_t) const noexcept { return *this; }
  friend bool operator==(const Serial& a, const Serial& b) noexcept { return a.state_ == b.state_; }
  friend bool operator!=(const Serial& a, const Serial& b) noexcept { return !(a == b); }

 private:
  void post(Task task) const;
  // True: the executor was idle, and the calling thread now holds the right to run (task is kept).
  // False: the task was queued.
  bool claim_or_queue(Task& task) const;
  // With the right held: runs the task, then the queue (bounded), then lets go.
  void run_claimed(Task& task) const;

  std::shared_ptr<detail::SerialState> state_;
};

// How the gRPC bridge hands a call's work to its owner's executor: in place when that is a Serial
// (run_here_or_post), posted otherwise. `placed` runs once the work has its place in the order.
template <class Executor, class Fn, class Placed>
void run_here_or_post(const Executor& executor, Fn fn, Placed placed) {
  if constexpr (std::is_same_v<Executor, Serial>) {
    executor.run_here_or_post(std::move(fn), std::move(placed));
  } else {
    boost::asio::post(executor, std::move(fn));
    placed();
  }
}
template <class Executor, class Fn>
void run_here_or_post(const Executor& executor, Fn fn) {
  run_here_or_post(executor, std::move(fn), [] {});
}

}  // namespace mkt::runtime
