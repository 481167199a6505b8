// Checks the serial executor: work runs one piece at a time and in order of arrival, whether
// posted or run in place, and a thread runs in place only what nothing else is running or owed.
#include "mkt/runtime/serial.h"

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch_test_macros.hpp>
#include <future>
#include <thread>
#include <vector>

#include "mkt/testing/io_thread.h"

using namespace std::chrono_literals;
using mkt::runtime::Serial;

static_assert(boost::asio::execution::is_executor_v<Serial>);

namespace {

// Waits until everything submitted to `serial` before this call has run.
void drain(const Serial& serial) {
  std::promise<void> done;
  boost::asio::post(serial, [&] { done.set_value(); });
  REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
}

}  // namespace

TEST_CASE("posted work runs in order, on the io_context's thread, one piece at a time") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  std::vector<int> order;  // touched only by the serial's work
  bool always_inside = true;
  for (int i = 0; i < 1000; ++i) {
    boost::asio::post(serial, [&, i] {
      always_inside = always_inside && serial.running_in_this_thread();
      order.push_back(i);
    });
  }
  drain(serial);
  CHECK_FALSE(serial.running_in_this_thread());
  CHECK(always_inside);
  REQUIRE(order.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(order[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("an idle serial runs work in place, with what that work posts") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> ran_on;
  serial.run_here_or_post([&] {
    ran_on.push_back(std::this_thread::get_id());
    CHECK(serial.running_in_this_thread());
    // A completion posted by the work itself (as the journal's is) runs before the call returns.
    boost::asio::post(serial, [&] { ran_on.push_back(std::this_thread::get_id()); });
  });
  CHECK(ran_on == std::vector<std::thread::id>{caller, caller});
  CHECK_FALSE(serial.running_in_this_thread());
}

TEST_CASE("a busy serial queues work run in place behind what waits, and runs it elsewhere") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  std::promise<void> release;
  std::promise<void> blocked;
  std::vector<int> order;
  boost::asio::post(serial, [&] {
    blocked.set_value();
    release.get_future().wait();
    order.push_back(1);
  });
  boost::asio::post(serial, [&] { order.push_back(2); });
  blocked.get_future().wait();
  std::thread::id ran_on;
  serial.run_here_or_post([&] {
    ran_on = std::this_thread::get_id();
    order.push_back(3);
  });  // returns at once: the serial is busy
  release.set_value();
  drain(serial);
  CHECK(order == std::vector<int>{1, 2, 3});
  CHECK(ran_on != std::this_thread::get_id());
}

TEST_CASE("work run in place from inside the serial's own work is queued, not nested") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  std::vector<int> order;
  std::promise<void> done;
  boost::asio::post(serial, [&] {
    serial.run_here_or_post([&] {
      order.push_back(2);
      done.set_value();
    });
    order.push_back(1);
  });
  REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(order == std::vector<int>{1, 2});
}

TEST_CASE("a thread that went in place hands a long queue on to the io_context") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  const auto caller = std::this_thread::get_id();
  std::atomic<int> here = 0;
  std::atomic<int> elsewhere = 0;
  serial.run_here_or_post([&] {
    for (int i = 0; i < 1000; ++i) {
      boost::asio::post(serial,
                        [&] { ++(std::this_thread::get_id() == caller ? here : elsewhere); });
    }
  });
  drain(serial);
  CHECK(here + elsewhere == 1000);
  CHECK(here < 1000);  // bounded: the caller went back to its own work
  CHECK(elsewhere > 0);
}

TEST_CASE("four threads posting and running in place never overlap and keep their own order") {
  mkt::testing::IoThread io;
  Serial serial(io.io(), 0ns);  // in place whenever nothing runs or waits: the most contention
  constexpr int threads = 4;
  constexpr int each = 5000;
  std::vector<std::vector<int>> seen(threads);  // touched only by the serial's work
  std::atomic<int> inside = 0;
  std::atomic<bool> overlapped = false;
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        auto work = [&, t, i] {
          if (inside.fetch_add(1) != 0) overlapped = true;
          seen[static_cast<std::size_t>(t)].push_back(i);
          inside.fetch_sub(1);
        };
        if (i % 2 == 0) {
          serial.run_here_or_post(work);
        } else {
          boost::asio::post(serial, work);
        }
      }
    });
  }
  for (auto& producer : producers) producer.join();
  drain(serial);
  CHECK_FALSE(overlapped);
  for (const auto& one : seen) {
    REQUIRE(one.size() == each);
    for (int i = 0; i < each; ++i) CHECK(one[static_cast<std::size_t>(i)] == i);
  }
}

TEST_CASE("work that comes soon after other work is queued, not run in place") {
  mkt::testing::IoThread io;
  Serial serial(io.io(), 1h);  // a new serial has been idle long enough; after any work, never
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> ran_on;
  serial.run_here_or_post([&] { ran_on.push_back(std::this_thread::get_id()); });
  serial.run_here_or_post([&] { ran_on.push_back(std::this_thread::get_id()); });
  drain(serial);
  REQUIRE(ran_on.size() == 2);
  CHECK(ran_on[0] == caller);
  CHECK(ran_on[1] != caller);
}

TEST_CASE("timers and any_io_executor run their handlers on the serial") {
  mkt::testing::IoThread io;
  Serial serial(io.io());
  std::promise<bool> timer_fired;
  boost::asio::steady_timer timer(serial);
  timer.expires_after(1ms);
  timer.async_wait([&](boost::system::error_code error) {
    timer_fired.set_value(!error && serial.running_in_this_thread());
  });
  CHECK(timer_fired.get_future().get());

  const boost::asio::any_io_executor erased = serial;
  std::promise<bool> posted;
  boost::asio::post(erased, [&] { posted.set_value(serial.running_in_this_thread()); });
  CHECK(posted.get_future().get());
}
