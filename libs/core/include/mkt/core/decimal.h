#pragma once
// Exact decimal numbers for configuration and order entry: "100.25", "0.01", "-3", "1_000".
// No floating point touches a price, a quantity, a probability or a duration: text is read straight
// into a scaled integer, and anything that does not fit exactly is an error, never rounded.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace mkt::core {

// value = mantissa / 10^scale. Not normalised: "1.50" is {150, 2}.
struct Decimal {
  std::int64_t mantissa = 0;
  int scale = 0;

  static constexpr int scale_max = 18;

  friend bool operator==(const Decimal&, const Decimal&) = default;
  bool is_zero() const { return mantissa == 0; }
  bool is_negative() const { return mantissa < 0; }
  // "1.50" keeps its scale; integers print without a point.
  std::string to_string() const;
  // The same value without trailing fractional zeros: {150, 2} -> {15, 1}, {100, 2} -> {1, 0}.
  Decimal normalized() const;
};

enum class DecimalError {
  empty,
  malformed,     // not [+-]digits[.digits], or an exponent, or a stray character
  too_precise,   // more non-zero fractional digits than the target scale allows
  out_of_range,  // does not fit in int64 at the target scale
  not_multiple,  // not a whole multiple of the step
};

// Describes the error for a message ("has more than 2 decimal places").
std::string describe(DecimalError error);

// Parses text as a Decimal keeping the digits as written. '_' may separate digit groups.
std::expected<Decimal, DecimalError> parse_decimal(std::string_view text);

// The value times 10^scale as an integer, exactly: parse_scaled("1.5", 3) == 1500 ("1.5 ms" in
// microseconds). Fails with too_precise if digits would be lost, out_of_range on overflow.
std::expected<std::int64_t, DecimalError> parse_scaled(std::string_view text, int scale);
std::expected<std::int64_t, DecimalError> to_scaled(Decimal value, int scale);

// value / step as an integer when value is an exact multiple of step (step > 0): a price in ticks
// from a price and a tick size. Fails with not_multiple otherwise.
std::expected<std::int64_t, DecimalError> divide_exact(Decimal value, Decimal step);

// a * b exactly, at scale a.scale + b.scale (reduced while it exceeds scale_max and trailing
// digits are zero).
std::expected<Decimal, DecimalError> multiply(Decimal a, Decimal b);

}  // namespace mkt::core
