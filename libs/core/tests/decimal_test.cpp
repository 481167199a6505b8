// Checks exact decimal parsing: the forms accepted, every error, scaling without rounding, and
// (with RapidCheck) that printing and parsing round-trip and scaling agrees with integer maths.
#include "mkt/core/decimal.h"

#include <catch2/catch_test_macros.hpp>

#include "mkt/testing/property.h"

using mkt::core::Decimal;
using mkt::core::DecimalError;
using mkt::core::divide_exact;
using mkt::core::multiply;
using mkt::core::parse_decimal;
using mkt::core::parse_scaled;

TEST_CASE("parse_decimal keeps the digits as written") {
  CHECK(parse_decimal("100.25") == Decimal{10025, 2});
  CHECK(parse_decimal("0.010") == Decimal{10, 3});
  CHECK(parse_decimal("-3") == Decimal{-3, 0});
  CHECK(parse_decimal("+7.") == Decimal{7, 0});
  CHECK(parse_decimal(".5") == Decimal{5, 1});
  CHECK(parse_decimal("1_000_000") == Decimal{1000000, 0});
}

TEST_CASE("parse_decimal refuses what is not a plain decimal") {
  CHECK(parse_decimal("").error() == DecimalError::empty);
  for (const char* bad : {"abc", "1e3", "1.2.3", "-", ".", "1,5", " 1", "1 ", "_1", "1_", "1__0",
                          "0x10", "nan", "inf"}) {
    INFO(bad);
    CHECK(parse_decimal(bad).error() == DecimalError::malformed);
  }
  CHECK(parse_decimal("9223372036854775808").error() == DecimalError::out_of_range);
  CHECK(parse_decimal("9223372036854775807") == Decimal{9223372036854775807, 0});
}

TEST_CASE("parse_scaled converts units without rounding") {
  CHECK(parse_scaled("1.5", 3) == 1500);    // ms -> us
  CHECK(parse_scaled("0.02", 6) == 20000);  // probability -> ppm
  CHECK(parse_scaled("1.2300", 2) == 123);  // trailing zeros are not precision
  CHECK(parse_scaled("1.234", 2).error() == DecimalError::too_precise);
  CHECK(parse_scaled("9223372036854775807", 1).error() == DecimalError::out_of_range);
}

TEST_CASE("divide_exact gives ticks only for prices on the grid") {
  const Decimal tick{1, 2};  // 0.01
  CHECK(divide_exact(*parse_decimal("100.0"), tick) == 10000);
  CHECK(divide_exact(*parse_decimal("100.005"), tick).error() == DecimalError::not_multiple);
  CHECK(divide_exact(*parse_decimal("2.5"), Decimal{5, 1}) == 5);
  CHECK(divide_exact(*parse_decimal("1"), Decimal{0, 0}).error() == DecimalError::out_of_range);
}

TEST_CASE("normalized drops trailing zeros only") {
  CHECK(Decimal{150, 2}.normalized() == Decimal{15, 1});
  CHECK(Decimal{100, 2}.normalized() == Decimal{1, 0});
  CHECK(Decimal{0, 6}.normalized() == Decimal{0, 0});
  CHECK(Decimal{101, 2}.normalized() == Decimal{101, 2});
}

TEST_CASE("multiply is exact") {
  CHECK(multiply({1, 2}, {10, 0}) == Decimal{10, 2});
  CHECK(multiply({3037000500, 0}, {3037000500, 0}).error() == DecimalError::out_of_range);
}

TEST_CASE("to_string round-trips through parse_decimal") {
  mkt::testing::property("print then parse", [] {
    const auto mantissa = *rc::gen::inRange<std::int64_t>(-1'000'000'000'000, 1'000'000'000'000);
    const int scale = *rc::gen::inRange(0, 12);
    const Decimal d{mantissa, scale};
    RC_ASSERT(parse_decimal(d.to_string()).value_or(Decimal{}) == d);
  });
}

TEST_CASE("scaling agrees with integer arithmetic") {
  mkt::testing::property("whole numbers scale by powers of ten", [] {
    const auto whole = *rc::gen::inRange<std::int64_t>(-1'000'000'000, 1'000'000'000);
    const int scale = *rc::gen::inRange(0, 9);
    std::int64_t expected = whole;
    for (int i = 0; i < scale; ++i) expected *= 10;
    RC_ASSERT(parse_scaled(std::to_string(whole), scale).value_or(-1) == expected);
  });
}
