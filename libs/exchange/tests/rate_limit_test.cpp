#include "mkt/exchange/rate_limit.h"

#include <catch2/catch_test_macros.hpp>

namespace mkt::exchange {
namespace {

constexpr std::int64_t ms = 1'000'000;

TEST_CASE("rate limit: a burst goes through, then one order per 1/rate, per account") {
  RateLimiter limiter(100, 3);  // 100 a second: a token every 10 ms
  for (int i = 0; i < 3; ++i) CHECK(limiter.take(1, 0) == 0);
  CHECK(limiter.take(1, 0) == 10 * ms);      // empty: the next token in 10 ms
  CHECK(limiter.take(1, 4 * ms) == 6 * ms);  // a refusal takes nothing
  CHECK(limiter.take(2, 4 * ms) == 0);       // another account has its own bucket
  CHECK(limiter.take(1, 10 * ms) == 0);
  CHECK(limiter.take(1, 10 * ms) == 10 * ms);
  // A long quiet spell refills to the burst, no more.
  for (int i = 0; i < 3; ++i) CHECK(limiter.take(1, 3'600'000 * ms) == 0);
  CHECK(limiter.take(1, 3'600'000 * ms) > 0);
}

TEST_CASE("rate limit: a rate of 0 is no limit; time going back refills nothing") {
  RateLimiter off(0, 0);
  for (int i = 0; i < 10'000; ++i) REQUIRE(off.take(7, 0) == 0);
  RateLimiter limiter(1, 1);
  CHECK(limiter.take(0, 5'000 * ms) == 0);
  CHECK(limiter.take(0, 1'000 * ms) == 1'000 * ms);  // earlier than the last: no refill
  CHECK(limiter.take(0, 6'000 * ms) == 0);
}

}  // namespace
}  // namespace mkt::exchange
