#pragma once
// A hop's bandwidth: a token bucket shared by every connection that crosses the hop, in the GCRA
// form (one "theoretical arrival time" instead of a token count). Bytes leave at `rate` on average
// and up to `burst` bytes at once; bytes that must wait queue in arrival order, and an offer that
// finds more than the queue limit waiting ahead of it is dropped (drop-tail), which is how
// congestion on one hop slows and then starves every flow through it. The limit is in bytes, so a
// lower rate (a congested hop) also means a longer wait. Nanoseconds; no clock of its own.

#include <cstdint>
#include <optional>

namespace mkt::netmodel {

class TokenBucket {
 public:
  // rate_kbps > 0 (kilobits per second, as the scenario gives it).
  TokenBucket(std::int64_t rate_kbps, std::int64_t burst_bytes, std::int64_t queue_limit_bytes);

  // `bytes` offered at now_ns: when their last byte leaves, or nullopt when the bytes waiting
  // ahead of them pass the queue limit (then nothing is reserved). An offer earlier than a
  // previous one simply queues behind it.
  std::optional<std::int64_t> admit(std::int64_t now_ns, std::int64_t bytes);
  // The earliest time an offer would be admitted (now_ns when it would be now).
  std::int64_t room_at(std::int64_t now_ns) const;
  // How long bytes offered now would wait.
  std::int64_t backlog_ns(std::int64_t now_ns) const;

  void set_rate_kbps(std::int64_t rate_kbps);
  std::int64_t rate_kbps() const { return rate_kbps_; }
  std::int64_t queue_limit_bytes() const { return queue_limit_bytes_; }
  // How long `bytes` take to send at the rate.
  std::int64_t ns_for(std::int64_t bytes) const;

 private:
  std::int64_t rate_kbps_;
  std::int64_t burst_bytes_;
  std::int64_t queue_limit_bytes_;
  std::int64_t tat_ns_ = 0;  // when the bucket would be full again with nothing more sent
};

}  // namespace mkt::netmodel
