// The fixed hashes give the published reference values, so every build agrees with every other.
#include "mkt/core/hash.h"

#include <catch2/catch_test_macros.hpp>

TEST_CASE("core hash: FNV-1a and SplitMix64 give their reference values") {
  static_assert(mkt::core::fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(mkt::core::fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(mkt::core::fnv1a64("bar", mkt::core::fnv1a64("foo")) == mkt::core::fnv1a64("foobar"));
  std::uint64_t state = 0;
  CHECK(mkt::core::splitmix64(state) == 0xe220a8397b1dcdafULL);
  CHECK(mkt::core::splitmix64(state) == 0x6e789e6aa1b965f4ULL);
  CHECK(mkt::core::mix64(0) == 0xe220a8397b1dcdafULL);
  CHECK(mkt::core::unit_interval(0) == 0.0);
  CHECK(mkt::core::unit_interval(~0ULL) < 1.0);
}
