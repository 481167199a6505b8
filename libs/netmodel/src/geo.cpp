#include "mkt/netmodel/geo.h"

#include <cmath>
#include <numbers>

namespace mkt::netmodel {

double great_circle_m(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) {
  constexpr double radians = std::numbers::pi / 180.0;
  const double lat1 = lat1_deg * radians;
  const double lat2 = lat2_deg * radians;
  const double dlat = lat2 - lat1;
  const double dlon = (lon2_deg - lon1_deg) * radians;
  // Haversine: stable for small distances.
  const double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2.0 * earth_radius_m * std::asin(std::min(1.0, std::sqrt(a)));
}

std::int64_t fibre_latency_us(double distance_m, std::uint32_t route_factor_milli,
                              std::int64_t per_hop_us) {
  const double factor = route_factor_milli == 0 ? 1.0 : route_factor_milli / 1000.0;
  return std::llround(distance_m * factor / fibre_m_per_us) + per_hop_us;
}

}  // namespace mkt::netmodel
