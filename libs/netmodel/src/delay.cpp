#include "mkt/netmodel/delay.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace mkt::netmodel {

using scenario::DistributionKind;

namespace {

std::int64_t round_us(double us) {
  return std::max<std::int64_t>(0, std::llround(us));
}

}  // namespace

std::int64_t sample_delay_us(const scenario::Distribution& d, Rng& rng) {
  switch (d.kind) {
    case DistributionKind::constant:
      return std::max<std::int64_t>(0, d.value_us);
    case DistributionKind::uniform:
      return round_us(static_cast<double>(d.min_us) +
                      uniform01(rng) * static_cast<double>(d.max_us - d.min_us));
    case DistributionKind::normal: {
      // Box-Muller; 1 - u keeps the logarithm finite.
      const double u1 = 1.0 - uniform01(rng);
      const double u2 = uniform01(rng);
      const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
      return round_us(static_cast<double>(d.mean_us) + z * static_cast<double>(d.std_us));
    }
    case DistributionKind::exponential:
      return round_us(static_cast<double>(d.min_us) -
                      static_cast<double>(d.scale_us) * std::log(1.0 - uniform01(rng)));
    case DistributionKind::pareto: {
      const double shape = static_cast<double>(d.shape_milli) / 1000.0;
      return round_us(static_cast<double>(d.min_us) +
                      static_cast<double>(d.scale_us) /
                          std::pow(1.0 - uniform01(rng), 1.0 / shape));
    }
  }
  return 0;
}

double mean_delay_us(const scenario::Distribution& d) {
  switch (d.kind) {
    case DistributionKind::constant:
      return static_cast<double>(d.value_us);
    case DistributionKind::uniform:
      return static_cast<double>(d.min_us + d.max_us) / 2.0;
    case DistributionKind::normal:
      return static_cast<double>(d.mean_us);
    case DistributionKind::exponential:
      return static_cast<double>(d.min_us + d.scale_us);
    case DistributionKind::pareto: {
      const double shape = static_cast<double>(d.shape_milli) / 1000.0;
      const double scale = static_cast<double>(d.scale_us);
      return static_cast<double>(d.min_us) + (shape > 1.0 ? scale * shape / (shape - 1.0) : scale);
    }
  }
  return 0;
}

}  // namespace mkt::netmodel
