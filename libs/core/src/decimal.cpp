#include "mkt/core/decimal.h"

#include <limits>

namespace mkt::core {
namespace {

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// 10^n for 0 <= n <= 18.
std::int64_t pow10(int n) {
  std::int64_t result = 1;
  for (int i = 0; i < n; ++i) result *= 10;
  return result;
}

// m * 10^k, or nullopt-like failure on overflow.
bool scale_up(std::int64_t m, int k, std::int64_t& out) {
  if (k > Decimal::scale_max) return m == 0 ? (out = 0, true) : false;
  const std::int64_t factor = pow10(k);
  if (m != 0 && (m > int64_max / factor || m < -int64_max / factor)) return false;
  out = m * factor;
  return true;
}

}  // namespace

std::string Decimal::to_string() const {
  // Built by appending: GCC 12 reports a false -Wrestrict on std::string::insert at -O2.
  const bool negative = mantissa < 0;
  const std::string digits = std::to_string(negative ? -mantissa : mantissa);
  std::string out = negative ? "-" : "";
  if (scale <= 0) return out + digits;
  const auto fraction = static_cast<std::size_t>(scale);
  if (digits.size() <= fraction) {
    out += "0.";
    out.append(fraction - digits.size(), '0');
    out += digits;
    return out;
  }
  out.append(digits, 0, digits.size() - fraction);
  out += '.';
  out.append(digits, digits.size() - fraction, fraction);
  return out;
}

Decimal Decimal::normalized() const {
  Decimal out = *this;
  while (out.scale > 0 && out.mantissa % 10 == 0) {
    out.mantissa /= 10;
    --out.scale;
  }
  return out;
}

std::string describe(DecimalError error) {
  switch (error) {
    case DecimalError::empty:
      return "is empty";
    case DecimalError::malformed:
      return "is not a decimal number";
    case DecimalError::too_precise:
      return "has more decimal places than allowed";
    case DecimalError::out_of_range:
      return "is out of range";
    case DecimalError::not_multiple:
      return "is not a multiple of the step";
  }
  return "is invalid";
}

std::expected<Decimal, DecimalError> parse_decimal(std::string_view text) {
  if (text.empty()) return std::unexpected(DecimalError::empty);
  std::size_t i = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    ++i;
  }
  std::int64_t mantissa = 0;
  int scale = 0;
  bool seen_point = false;
  bool seen_digit = false;
  char previous = '\0';
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '_') {
      // Only between two digits.
      if (!(previous >= '0' && previous <= '9') || i + 1 >= text.size() || text[i + 1] < '0' ||
          text[i + 1] > '9') {
        return std::unexpected(DecimalError::malformed);
      }
    } else if (c == '.') {
      if (seen_point) return std::unexpected(DecimalError::malformed);
      seen_point = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_point) {
        if (scale == Decimal::scale_max) {
          if (c != '0') return std::unexpected(DecimalError::too_precise);
          previous = c;
          continue;  // trailing zeros past the largest scale carry no value
        }
        ++scale;
      }
      const std::int64_t digit = c - '0';
      if (mantissa > (int64_max - digit) / 10) return std::unexpected(DecimalError::out_of_range);
      mantissa = mantissa * 10 + digit;
    } else {
      return std::unexpected(DecimalError::malformed);
    }
    previous = c;
  }
  if (!seen_digit) return std::unexpected(DecimalError::malformed);
  return Decimal{negative ? -mantissa : mantissa, scale};
}

std::expected<std::int64_t, DecimalError> to_scaled(Decimal value, int scale) {
  if (scale < 0 || scale > Decimal::scale_max) return std::unexpected(DecimalError::out_of_range);
  if (value.scale <= scale) {
    std::int64_t out = 0;
    if (!scale_up(value.mantissa, scale - value.scale, out)) {
      return std::unexpected(DecimalError::out_of_range);
    }
    return out;
  }
  const std::int64_t divisor = pow10(value.scale - scale);
  if (value.mantissa % divisor != 0) return std::unexpected(DecimalError::too_precise);
  return value.mantissa / divisor;
}

std::expected<std::int64_t, DecimalError> parse_scaled(std::string_view text, int scale) {
  auto parsed = parse_decimal(text);
  if (!parsed) return std::unexpected(parsed.error());
  return to_scaled(*parsed, scale);
}

std::expected<std::int64_t, DecimalError> divide_exact(Decimal value, Decimal step) {
  if (step.mantissa <= 0) return std::unexpected(DecimalError::out_of_range);
  // Bring both to the larger scale, then divide the integers.
  const int scale = value.scale > step.scale ? value.scale : step.scale;
  std::int64_t a = 0;
  std::int64_t b = 0;
  if (!scale_up(value.mantissa, scale - value.scale, a) ||
      !scale_up(step.mantissa, scale - step.scale, b)) {
    return std::unexpected(DecimalError::out_of_range);
  }
  if (a % b != 0) return std::unexpected(DecimalError::not_multiple);
  return a / b;
}

std::expected<Decimal, DecimalError> multiply(Decimal a, Decimal b) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(a.mantissa, b.mantissa, &product)) {
    return std::unexpected(DecimalError::out_of_range);
  }
  int scale = a.scale + b.scale;
  while (scale > Decimal::scale_max) {
    if (product % 10 != 0) return std::unexpected(DecimalError::too_precise);
    product /= 10;
    --scale;
  }
  return Decimal{product, scale};
}

}  // namespace mkt::core
