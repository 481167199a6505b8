#pragma once
// Polls a condition until it holds or a timeout passes. Each poll is a real question to the
// system under test (a status call, a query of a process), never a guess at how long something
// takes; the interval only paces the questions.

#include <chrono>
#include <thread>

namespace mkt::testing {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(interval);
  }
  return condition();
}

}  // namespace mkt::testing
