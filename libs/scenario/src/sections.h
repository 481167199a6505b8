#pragma once
// Parsers for each section of a scenario file. Internal to the scenario library.

#include "reader.h"

namespace mkt::scenario::detail {

// Limits used in several sections.
inline constexpr std::int64_t latency_us_max = 60'000'000;       // one minute one way
inline constexpr std::int64_t bandwidth_kbps_max = 100'000'000;  // 100 Gbit/s
inline constexpr std::int64_t duration_ms_max = 30LL * 24 * 3600 * 1000;
inline constexpr std::int64_t count_max = static_cast<std::int64_t>(nodes_max);

LinkSpec read_link_spec(const MapReader& map, bool latency_required);
Topology read_topology(Diagnostics& d, const YAML::Node& node, const std::string& path,
                       const std::string& name);
Market read_market(Diagnostics& d, const YAML::Node& node, const std::string& path,
                   const std::string& name);
Consensus read_consensus(const MapReader& map);
AgentSpec read_agent_spec(const MapReader& map, const std::string& strategy);
Disruption read_disruption(Diagnostics& d, const YAML::Node& node, const std::string& path,
                           const std::string& name);
Monitoring read_monitoring(Diagnostics& d, const YAML::Node& node);
RiskLimits read_risk(Diagnostics& d, const YAML::Node& node, const std::string& path);

// The strategies agents may run, and the schema of each one's strategy_config.
const std::vector<std::string>& strategy_names();

}  // namespace mkt::scenario::detail
