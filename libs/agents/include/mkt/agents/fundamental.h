#pragma once
// The fundamental value of a symbol: a mean-reverting random walk of the log value with jumps,
// in discrete steps, computed the same way by every agent from the scenario's seed, so no
// service has to publish it (ABIDES's "oracle"). Agents see it only through their own noise.
//
// Step k (of step_ms each) moves the log value x (x = 0 at the reference price) by
//   x' = x * exp(-step / tau) + sigma_step * Z + J
// where tau is the mean-reversion time (half_life / ln 2), sigma_step the daily volatility
// scaled to one step, Z a standard normal, and J a normal jump of jump_ppm standard deviation
// that occurs with probability jumps_per_day * step / day. The draws of step k come from a
// counter-based hash of (seed, symbol, k), so the value at a time does not depend on which times
// were asked before, or by whom.
//
// Doubles are used inside (exp, log, cos); the value comes out as whole ticks. Every agent of a
// market runs the same binary, so they agree to the tick.

#include <cstdint>
#include <string_view>

namespace mkt::agents {

struct FundamentalParams {
  std::int64_t reference_ticks = 10'000;  // the value at time 0 and the mean it reverts to
  std::uint32_t volatility_ppm = 20'000;  // daily standard deviation of the log value (2%)
  std::int64_t half_life_ms = 3'600'000;  // mean reversion: half of a deviation is gone after it
  std::uint32_t jumps_per_day_milli = 0;  // expected jumps per day, x 1000
  std::uint32_t jump_ppm = 0;             // standard deviation of a jump's log size
  std::int64_t step_ms = 100;             // the scenario's time step
};

class FundamentalValue {
 public:
  FundamentalValue(std::uint64_t seed, std::string_view symbol, FundamentalParams params);

  // The value at `time_ms` after the market's start (negative times are time 0), in ticks, at
  // least 1. Cheap for times that only move forward; a time before the last one asked recomputes
  // from the start.
  std::int64_t at(std::int64_t time_ms);

  const FundamentalParams& params() const { return params_; }

 private:
  double advance(double x, std::uint64_t step) const;

  std::uint64_t key_;
  FundamentalParams params_;
  double decay_;       // exp(-step / tau)
  double sigma_step_;  // the volatility of one step
  double jump_probability_;
  std::uint64_t step_ = 0;  // the last step computed, and its log value
  double x_ = 0;
};

// A standard normal from a 64-bit key (Box-Muller over two hashed uniforms): the same key gives
// the same draw on every machine that computes log, sqrt and cos the same way.
double normal_from_key(std::uint64_t key);
// A uniform in [0, 1) from a 64-bit key.
double uniform_from_key(std::uint64_t key);

}  // namespace mkt::agents
