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

// The clocks a service's core reads, as one object it is given (ServiceOptions, ProxyOptions),
// so that a test can replace them. Thread-safe to read.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t wall_ns() const { return wall_clock_ns(); }
  virtual std::int64_t steady_ns() const { return runtime::steady_ns(); }
};

// The system's clocks.
const Clock& system_clock();

// A clock a test moves by hand (both readings move together). Move it only while nothing reads
// it (between calls): it is not synchronised. Not for what waits on an Asio timer: timers wait
// on the real steady clock.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t wall_ns = 0, std::int64_t steady_ns = 0)
      : wall_ns_(wall_ns), steady_ns_(steady_ns) {}
  std::int64_t wall_ns() const override { return wall_ns_; }
  std::int64_t steady_ns() const override { return steady_ns_; }
  void advance_ns(std::int64_t ns) {
    wall_ns_ += ns;
    steady_ns_ += ns;
  }

 private:
  std::int64_t wall_ns_;
  std::int64_t steady_ns_;
};

// Stamps `header` as sent now by `sender`.
inline void stamp(market::common::v1::Header& header, const std::string& sender) {
  header.set_sender(sender);
  header.set_sent_at_ns(wall_clock_ns());
}

}  // namespace mkt::runtime
