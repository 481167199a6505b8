#include "mkt/agents/fundamental.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "mkt/core/hash.h"

namespace mkt::agents {
namespace {

constexpr double day_ms = 86'400'000.0;

// Streams of draws within one step.
enum Stream : std::uint64_t { diffusion = 1, jump_happens = 2, jump_size = 3 };

}  // namespace

double uniform_from_key(std::uint64_t key) {
  return core::unit_interval(core::mix64(key));
}

double normal_from_key(std::uint64_t key) {
  const double u1 = 1.0 - uniform_from_key(key);  // (0, 1]: log is finite
  const double u2 = uniform_from_key(key ^ 0x5bd1e9955bd1e995ULL);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

FundamentalValue::FundamentalValue(std::uint64_t seed, std::string_view symbol,
                                   FundamentalParams params)
    : key_(core::mix64(seed) ^ core::fnv1a64(symbol)), params_(params) {
  params_.step_ms = std::max<std::int64_t>(params_.step_ms, 1);
  const double step = static_cast<double>(params_.step_ms);
  const double tau =
      static_cast<double>(std::max<std::int64_t>(params_.half_life_ms, 1)) / std::numbers::ln2;
  decay_ = std::exp(-step / tau);
  sigma_step_ = static_cast<double>(params_.volatility_ppm) * 1e-6 * std::sqrt(step / day_ms);
  jump_probability_ =
      std::min(1.0, static_cast<double>(params_.jumps_per_day_milli) * 1e-3 * step / day_ms);
}

double FundamentalValue::advance(double x, std::uint64_t step) const {
  const auto draw = [&](Stream stream) {
    return core::mix64(key_ ^ core::mix64(step * 4 + stream));
  };
  x = x * decay_ + sigma_step_ * normal_from_key(draw(diffusion));
  if (jump_probability_ > 0 && uniform_from_key(draw(jump_happens)) < jump_probability_) {
    x += static_cast<double>(params_.jump_ppm) * 1e-6 * normal_from_key(draw(jump_size));
  }
  return x;
}

std::int64_t FundamentalValue::at(std::int64_t time_ms) {
  const auto target =
      static_cast<std::uint64_t>(std::max<std::int64_t>(time_ms, 0) / params_.step_ms);
  if (target < step_) {
    step_ = 0;
    x_ = 0;
  }
  while (step_ < target) x_ = advance(x_, ++step_);
  const double value = static_cast<double>(params_.reference_ticks) * std::exp(x_);
  return std::max<std::int64_t>(1, std::llround(value));
}

}  // namespace mkt::agents
