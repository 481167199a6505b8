#pragma once
// Per-packet latency of one hop, drawn from the scenario's distribution (mkt::scenario::
// Distribution): constant, uniform, normal (cut at zero), exponential or pareto (each plus an
// offset).
// Microseconds in and out.

#include <cstdint>

#include "mkt/netmodel/random.h"
#include "mkt/scenario/scenario.h"

namespace mkt::netmodel {

// One draw, >= 0.
std::int64_t sample_delay_us(const scenario::Distribution& d, Rng& rng);

// The distribution's mean (for routing by expected latency). Pareto with shape <= 1 has no finite
// mean; its scale is returned then.
double mean_delay_us(const scenario::Distribution& d);

}  // namespace mkt::netmodel
