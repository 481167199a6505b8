#pragma once
// The link model's randomness: a seeded generator and the few draws it needs, written out here
// rather than taken from <random>'s distributions, whose algorithms differ between standard
// libraries. The same seed gives the same delays and losses on every build.

#include <cstdint>
#include <random>

#include "mkt/core/hash.h"

namespace mkt::netmodel {

using Rng = std::mt19937_64;

// Uniform in [0, 1), with 53 random bits.
inline double uniform01(Rng& rng) {
  return core::unit_interval(rng());
}

// True with probability ppm / 1e6.
inline bool chance_ppm(Rng& rng, std::uint32_t ppm) {
  return rng() % 1'000'000 < ppm;
}

}  // namespace mkt::netmodel
