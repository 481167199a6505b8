#include "mkt/runtime/serial.h"

#include <boost/asio/post.hpp>
#include <deque>
#include <mutex>

namespace mkt::runtime {
namespace detail {

struct SerialState : std::enable_shared_from_this<SerialState> {
  SerialState(boost::asio::io_context& io_, std::chrono::nanoseconds in_place_after_)
      : io(io_),
        in_place_after(in_place_after_),
        idle_since(std::chrono::steady_clock::now() - in_place_after_) {}

  // Tasks one run takes before it hands the rest on: a thread that went in place returns to gRPC,
  // and the io_context's thread lets its other handlers in.
  static constexpr std::size_t run_tasks_max = 64;

  // Queues `task`; or, with `may_claim` and the executor idle, sets `active` for the calling thread
  // instead and returns true (the task is kept, to run there).
  bool queue_or_claim(Serial::Task& task, bool may_claim) {
    {
      std::lock_guard lock(mutex);
      if (may_claim && !active && std::chrono::steady_clock::now() - idle_since >= in_place_after) {
        active = true;  // the queue is empty: nothing is owed to run before this
        return true;
      }
      queue.push_back(std::move(task));
      if (active) return false;  // its holder will run it
      active = true;
    }
    post_run();
    return false;
  }

  // By the thread that just set `active`: hands the queue to the io_context.
  void post_run() {
    boost::asio::post(io, [self = shared_from_this()] { self->run_queue(); });
  }

  // On the one thread that holds `active`: runs the queue until it is empty (then drops
  // `active`) or the bound is reached (then posts the rest).
  void run_queue() noexcept {
    for (std::size_t n = 0;; ++n) {
      Serial::Task task;
      {
        std::lock_guard lock(mutex);
        if (queue.empty()) {
          active = false;
          idle_since = std::chrono::steady_clock::now();
          return;
        }
        if (n == run_tasks_max) break;
        task = std::move(queue.front());
        queue.pop_front();
      }
      run(task);
    }
    post_run();
  }

  void run(Serial::Task& task) noexcept {
    const SerialState* outer = running_here;
    running_here = this;
    task();
    running_here = outer;
  }

  boost::asio::io_context& io;
  const std::chrono::nanoseconds in_place_after;
  std::mutex mutex;
  std::chrono::steady_clock::time_point idle_since;  // when the queue last ran dry
  std::deque<Serial::Task> queue;
  // Someone runs the queue: a thread in run_queue, or a run_queue posted to the io_context. Only
  // its holder takes tasks from the queue, so they run one at a time, in order.
  bool active = false;
  static thread_local const SerialState* running_here;
};

thread_local const SerialState* SerialState::running_here = nullptr;

}  // namespace detail

Serial::Serial(boost::asio::io_context& io, std::chrono::nanoseconds in_place_after)
    : state_(std::make_shared<detail::SerialState>(io, in_place_after)) {}

boost::asio::io_context& Serial::query(boost::asio::execution::context_t) const noexcept {
  return state_->io;
}

void Serial::post(Task task) const {
  state_->queue_or_claim(task, false);
}

bool Serial::claim_or_queue(Task& task) const {
  return state_->queue_or_claim(task, true);
}

void Serial::run_claimed(Task& task) const {
  state_->run(task);
  state_->run_queue();
}

bool Serial::running_in_this_thread() const noexcept {
  return detail::SerialState::running_here == state_.get();
}

}  // namespace mkt::runtime
