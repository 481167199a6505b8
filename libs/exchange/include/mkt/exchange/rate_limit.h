#pragma once
// Order-entry rate limits per account: a token bucket each, refilled at `per_second` up to `burst`
// tokens, one token per submit, cancel or modify. I/O-free: the caller passes the time. A command
// that finds no token is refused before the venue sees it, so the limit never changes the venue
// (nothing refused is journalled, and replay does not consult it).

#include <cstdint>
#include <vector>

#include "mkt/matching/order_book.h"

namespace mkt::exchange {

class RateLimiter {
 public:
  // per_second == 0: no limit. burst >= 1 when limited (a burst of 0 is taken as 1).
  RateLimiter(std::uint32_t per_second, std::uint32_t burst);

  // Takes a token of `account` at `now_ns` (steady, non-decreasing per account) and returns 0, or
  // takes nothing and returns how long until one is there, in ns (>= 1).
  std::int64_t take(matching::AccountId account, std::int64_t now_ns);

  std::uint32_t per_second() const { return per_second_; }
  std::uint32_t burst() const { return burst_; }

 private:
  struct Bucket {
    std::int64_t tokens_ns = -1;  // tokens in units of 1/1e9 token; -1: not seen yet (full)
    std::int64_t at_ns = 0;
  };
  std::uint32_t per_second_;
  std::uint32_t burst_;
  std::vector<Bucket> buckets_;  // by account id
};

}  // namespace mkt::exchange
