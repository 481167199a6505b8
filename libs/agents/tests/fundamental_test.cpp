// The fundamental value: the same path for everyone from a seed, whatever the order of the
// questions, and the statistics its parameters promise (measured over long runs).
#include "mkt/agents/fundamental.h"

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <vector>

using mkt::agents::FundamentalParams;
using mkt::agents::FundamentalValue;

namespace {

// The log values of steps 1..n.
std::vector<double> log_path(FundamentalValue& value, int n) {
  std::vector<double> out;
  const auto reference = static_cast<double>(value.params().reference_ticks);
  for (int k = 1; k <= n; ++k) {
    out.push_back(std::log(static_cast<double>(value.at(k * value.params().step_ms)) / reference));
  }
  return out;
}

double stddev(const std::vector<double>& xs) {
  double mean = 0;
  for (double x : xs) mean += x;
  mean /= static_cast<double>(xs.size());
  double var = 0;
  for (double x : xs) var += (x - mean) * (x - mean);
  return std::sqrt(var / static_cast<double>(xs.size() - 1));
}

}  // namespace

TEST_CASE("fundamental: every agent computes the same path, in any order of questions") {
  const FundamentalParams params{.reference_ticks = 10'000,
                                 .volatility_ppm = 200'000,
                                 .half_life_ms = 600'000,
                                 .jumps_per_day_milli = 50'000,
                                 .jump_ppm = 10'000,
                                 .step_ms = 100};
  FundamentalValue forward(42, "ACME", params);
  std::vector<std::int64_t> path;
  for (int t = 0; t <= 60'000; t += 100) path.push_back(forward.at(t));
  CHECK(path.front() == 10'000);  // time 0 is the reference
  FundamentalValue backward(42, "ACME", params);
  for (int t = 60'000, i = static_cast<int>(path.size()) - 1; t >= 0; t -= 100, --i) {
    REQUIRE(backward.at(t) == path[static_cast<std::size_t>(i)]);
  }
  // Times within a step give the step's value; negative times are time 0.
  CHECK(forward.at(12'345) == path[123]);
  CHECK(forward.at(-5) == 10'000);
  // It moves, and another symbol or seed moves differently.
  CHECK(std::any_of(path.begin(), path.end(), [](std::int64_t v) { return v != 10'000; }));
  FundamentalValue other_symbol(42, "GLOBX", params);
  FundamentalValue other_seed(43, "ACME", params);
  CHECK(other_symbol.at(60'000) != path.back());
  CHECK(other_seed.at(60'000) != path.back());
}

TEST_CASE("fundamental: one step's move has the daily volatility scaled to the step") {
  // No mean reversion to speak of (a half-life of a year) and no jumps.
  const FundamentalParams params{.reference_ticks = 1'000'000'000,
                                 .volatility_ppm = 20'000,
                                 .half_life_ms = 365LL * 86'400'000,
                                 .jumps_per_day_milli = 0,
                                 .jump_ppm = 0,
                                 .step_ms = 1'000};
  FundamentalValue value(7, "ACME", params);
  const auto x = log_path(value, 100'000);
  std::vector<double> moves;
  for (std::size_t i = 1; i < x.size(); ++i) moves.push_back(x[i] - x[i - 1]);
  const double expected = 0.02 * std::sqrt(1'000.0 / 86'400'000.0);
  CHECK(std::abs(stddev(moves) / expected - 1.0) < 0.02);
}

TEST_CASE("fundamental: mean reversion holds the value around the reference") {
  // Stationary standard deviation of the log value: sigma_step / sqrt(1 - decay^2).
  const FundamentalParams params{.reference_ticks = 1'000'000'000,
                                 .volatility_ppm = 500'000,
                                 .half_life_ms = 60'000,
                                 .jumps_per_day_milli = 0,
                                 .jump_ppm = 0,
                                 .step_ms = 100};
  FundamentalValue value(11, "ACME", params);
  const auto x = log_path(value, 400'000);
  const double decay = std::exp(-100.0 * std::log(2.0) / 60'000.0);
  const double sigma_step = 0.5 * std::sqrt(100.0 / 86'400'000.0);
  const double stationary = sigma_step / std::sqrt(1 - decay * decay);
  CHECK(std::abs(stddev(x) / stationary - 1.0) < 0.15);
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  CHECK(std::abs(mean) < stationary * 0.25);
}

TEST_CASE("fundamental: jumps come at their rate with their size") {
  // Volatility off: every move is a jump. 1,000 jumps a day at one-second steps is one per 86.4
  // steps on average.
  const FundamentalParams params{.reference_ticks = 1'000'000'000,
                                 .volatility_ppm = 0,
                                 .half_life_ms = 365LL * 86'400'000,
                                 .jumps_per_day_milli = 1'000'000,
                                 .jump_ppm = 5'000,
                                 .step_ms = 1'000};
  FundamentalValue value(3, "ACME", params);
  const auto x = log_path(value, 200'000);
  std::vector<double> jumps;
  for (std::size_t i = 1; i < x.size(); ++i) {
    if (std::abs(x[i] - x[i - 1]) > 1e-7) jumps.push_back(x[i] - x[i - 1]);
  }
  const double expected = 200'000 / 86.4;
  CHECK(std::abs(static_cast<double>(jumps.size()) / expected - 1.0) < 0.1);
  CHECK(std::abs(stddev(jumps) / 0.005 - 1.0) < 0.1);
}
