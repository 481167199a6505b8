#include "mkt/exchange/rate_limit.h"

#include <algorithm>

namespace mkt::exchange {

namespace {
constexpr std::int64_t one = 1'000'000'000;  // a token, in the buckets' unit
}

RateLimiter::RateLimiter(std::uint32_t per_second, std::uint32_t burst)
    : per_second_(per_second), burst_(std::max<std::uint32_t>(burst, 1)) {}

std::int64_t RateLimiter::take(matching::AccountId account, std::int64_t now_ns) {
  if (per_second_ == 0) return 0;
  if (account >= buckets_.size()) buckets_.resize(account + 1);
  Bucket& bucket = buckets_[account];
  const std::int64_t full = std::int64_t{burst_} * one;
  if (bucket.tokens_ns < 0) {
    bucket.tokens_ns = full;
  } else if (now_ns > bucket.at_ns) {
    // Refill: per_second tokens a second is per_second units of 1e-9 token a ns. The time is
    // capped at what fills an empty bucket, so a long quiet spell cannot overflow.
    const std::int64_t elapsed = std::min(now_ns - bucket.at_ns, full / per_second_ + 1);
    bucket.tokens_ns = std::min(full, bucket.tokens_ns + elapsed * std::int64_t{per_second_});
  }
  bucket.at_ns = std::max(bucket.at_ns, now_ns);
  if (bucket.tokens_ns >= one) {
    bucket.tokens_ns -= one;
    return 0;
  }
  const std::int64_t missing = one - bucket.tokens_ns;
  return (missing + per_second_ - 1) / per_second_;  // ceil, in ns
}

}  // namespace mkt::exchange
