#pragma once
// Latency from geography: great-circle distance between two coordinates, over the speed of light
// in fibre (about 2/3 of c: 5 microseconds per kilometre), times a route factor (fibre paths are
// longer than the great circle), plus a per-hop processing delay.

#include <cstdint>

namespace mkt::netmodel {

inline constexpr double earth_radius_m = 6'371'000.0;
inline constexpr double fibre_m_per_us = 200.0;  // 2e8 m/s

double great_circle_m(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg);

// One-way latency over `distance_m` with a route factor (path over great circle, * 1000; 0 means
// 1) and a fixed per-hop delay.
std::int64_t fibre_latency_us(double distance_m, std::uint32_t route_factor_milli,
                              std::int64_t per_hop_us);

}  // namespace mkt::netmodel
