#include "units.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::marketctl;

TEST_CASE("marketctl: durations need a unit and are exact in microseconds") {
  CHECK(parse_duration_us("250us") == 250);
  CHECK(parse_duration_us("50ms") == 50'000);
  CHECK(parse_duration_us("1.5ms") == 1'500);
  CHECK(parse_duration_us("2s") == 2'000'000);
  CHECK(parse_duration_us("2m") == 120'000'000);
  CHECK_FALSE(parse_duration_us("50").has_value());     // no unit
  CHECK_FALSE(parse_duration_us("1.5us").has_value());  // below the grain: refused, not rounded
  CHECK_FALSE(parse_duration_us("-5ms").has_value());
  CHECK_FALSE(parse_duration_us("5 ms").has_value());
  CHECK_FALSE(parse_duration_us("ms").has_value());
  CHECK(parse_duration_us("fast").error().find("as in 50ms") != std::string::npos);
}

TEST_CASE("marketctl: probabilities are percentages or fractions in ppm") {
  CHECK(parse_probability_ppm("1%") == 10'000);
  CHECK(parse_probability_ppm("0.5%") == 5'000);
  CHECK(parse_probability_ppm("0.01") == 10'000);
  CHECK(parse_probability_ppm("100%") == 1'000'000);
  CHECK_FALSE(parse_probability_ppm("101%").has_value());
  CHECK_FALSE(parse_probability_ppm("2").has_value());
  CHECK_FALSE(parse_probability_ppm("0.00001%").has_value());
  CHECK_FALSE(parse_probability_ppm("1 %").has_value());
}

TEST_CASE("marketctl: bandwidths use tc's units and whole kbit") {
  CHECK(parse_bandwidth_bps("1mbit") == 1'000'000);
  CHECK(parse_bandwidth_bps("512kbit") == 512'000);
  CHECK(parse_bandwidth_bps("1.5gbit") == 1'500'000'000);
  CHECK(parse_bandwidth_bps("8000bit") == 8'000);
  CHECK(parse_bandwidth_bps("2mbps") == 2'000'000);
  CHECK_FALSE(parse_bandwidth_bps("1500bit").has_value());  // not a whole kbit
  CHECK_FALSE(parse_bandwidth_bps("0kbit").has_value());
  CHECK_FALSE(parse_bandwidth_bps("1MB").has_value());
}

TEST_CASE("marketctl: formats read back as they were typed") {
  CHECK(format_duration_us(50'000) == "50ms");
  CHECK(format_duration_us(1'500) == "1.5ms");
  CHECK(format_duration_us(250) == "250us");
  CHECK(format_duration_us(2'000'000) == "2s");
  CHECK(format_duration_us(0) == "0ms");
  CHECK(format_ppm_percent(10'000) == "1%");
  CHECK(format_ppm_percent(5'000) == "0.5%");
  CHECK(format_bandwidth_bps(1'000'000) == "1mbit");
  CHECK(format_bandwidth_bps(512'000) == "512kbit");
  CHECK(format_bandwidth_bps(0) == "unlimited");
}
