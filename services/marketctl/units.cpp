#include "units.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <utility>

#include "mkt/core/decimal.h"

namespace mkt::marketctl {
namespace {

// Splits "50ms" into ("50", "ms"): the number is the leading digits and dots.
std::pair<std::string_view, std::string_view> split_unit(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  return {text.substr(0, i), text.substr(i)};
}

struct Unit {
  std::string_view name;
  int scale;  // the number is multiplied by 10^scale
};

std::expected<std::int64_t, std::string> scaled(std::string_view text, std::span<const Unit> units,
                                                std::string_view what, std::string_view forms) {
  const auto [number, unit] = split_unit(text);
  for (const auto& u : units) {
    if (unit != u.name || number.empty()) continue;
    auto value = core::parse_scaled(number, u.scale);
    if (!value) break;
    return *value;
  }
  return std::unexpected(std::string(what) + " '" + std::string(text) + "' is not one of " +
                         std::string(forms));
}

std::string trim_zeros(std::int64_t value, int scale, std::string_view unit) {
  std::int64_t div = 1;
  for (int i = 0; i < scale; ++i) div *= 10;
  std::string out = std::to_string(value / div);
  if (auto rest = value % div; rest != 0) {
    std::string frac = std::to_string(rest);
    frac.insert(0, static_cast<std::size_t>(scale) - frac.size(), '0');
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + std::string(unit);
}

}  // namespace

std::expected<std::int64_t, std::string> parse_duration_us(std::string_view text) {
  static constexpr std::array<Unit, 4> units{{{"us", 0}, {"ms", 3}, {"s", 6}, {"m", 6}}};
  auto value = scaled(text, units, "duration", "<number>us, ms, s or m (as in 50ms)");
  if (value && split_unit(text).second == "m") {
    if (*value > INT64_MAX / 60)
      return std::unexpected("duration '" + std::string(text) + "' is too long");
    *value *= 60;
  }
  return value;
}

std::expected<std::uint32_t, std::string> parse_probability_ppm(std::string_view text) {
  static constexpr std::array<Unit, 2> units{{{"%", 4}, {"", 6}}};
  auto value = scaled(text, units, "probability", "<number>% or a fraction (as in 1% or 0.01)");
  if (!value) return std::unexpected(value.error());
  if (*value > 1'000'000) {
    return std::unexpected("probability '" + std::string(text) + "' is above 100%");
  }
  return static_cast<std::uint32_t>(*value);
}

std::expected<std::int64_t, std::string> parse_bandwidth_bps(std::string_view text) {
  static constexpr std::array<Unit, 6> units{
      {{"bit", 0}, {"kbit", 3}, {"mbit", 6}, {"gbit", 9}, {"kbps", 3}, {"mbps", 6}}};
  auto value = scaled(text, units, "bandwidth", "<number>bit, kbit, mbit or gbit (as in 1mbit)");
  if (!value) return value;
  if (*value <= 0 || *value % 1000 != 0) {
    return std::unexpected("bandwidth '" + std::string(text) +
                           "' must be a positive whole number of kbit");
  }
  return value;
}

std::string format_duration_us(std::int64_t us) {
  if (us != 0 && us < 1000) return trim_zeros(us, 0, "us");
  if (us >= 1'000'000) return trim_zeros(us, 6, "s");
  return trim_zeros(us, 3, "ms");
}

std::string format_seconds(std::int64_t ns) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f s", static_cast<double>(ns) / 1e9);
  return buffer;
}

std::string format_ppm_percent(std::uint32_t ppm) {
  return trim_zeros(ppm, 4, "%");
}

std::string format_bandwidth_bps(std::int64_t bps) {
  if (bps == 0) return "unlimited";
  if (bps >= 1'000'000'000) return trim_zeros(bps, 9, "gbit");
  if (bps >= 1'000'000) return trim_zeros(bps, 6, "mbit");
  return trim_zeros(bps, 3, "kbit");
}

}  // namespace mkt::marketctl
