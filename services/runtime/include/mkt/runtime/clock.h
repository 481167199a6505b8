#pragma once
// The clocks services read (libs take time as an argument), and the Header every message that
// crosses a process boundary carries.

#include <chrono>
#include <cstdint>
#include <string>

#include "market/common/v1/common.pb.h"

namespace mkt::runtime {

// Wall-clock nanoseconds since the Unix epoch, as every `_ns` timestamp on the wire.
inline std::int64_t wall_clock_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic nanoseconds, for measuring durations.
inline std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Stamps `header` as sent now by `sender`.
inline void stamp(market::common::v1::Header& header, const std::string& sender) {
  header.set_sender(sender);
  header.set_sent_at_ns(wall_clock_ns());
}

}  // namespace mkt::runtime
