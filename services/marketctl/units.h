#pragma once
// The quantities an operator types: "50ms", "1%", "1mbit", "30s". Each parser takes the text as
// written and returns an exact integer in the unit its name says, or a message that names the
// text and the forms it accepts. Nothing is rounded: "1.5us" is refused, not made 1 or 2.

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace mkt::marketctl {

// "250us", "50ms", "1.5s", "2m": microseconds. A bare number is refused (the unit is the point).
std::expected<std::int64_t, std::string> parse_duration_us(std::string_view text);

// "1%", "0.5%", "0.01" (a fraction): parts per million of [0, 1].
std::expected<std::uint32_t, std::string> parse_probability_ppm(std::string_view text);

// tc's units: "800bit", "64kbit", "1mbit", "1.5gbit" (powers of 1000), and "kbps"/"mbps" as
// kilo/megabits per second too. Bits per second, a whole number of kbit/s (the proxy's grain).
std::expected<std::int64_t, std::string> parse_bandwidth_bps(std::string_view text);

// Formats for tables and echoes: "1.5ms", "2%", "1mbit".
std::string format_duration_us(std::int64_t us);
std::string format_ppm_percent(std::uint32_t ppm);
std::string format_bandwidth_bps(std::int64_t bps);
// A span of time measured in ns, for reports: "1.34 s".
std::string format_seconds(std::int64_t ns);

}  // namespace mkt::marketctl
