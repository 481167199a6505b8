// Consensus settings, timed disruptions and monitoring.
#include "sections.h"

namespace mkt::scenario::detail {
namespace {

const std::vector<std::string> attack_names = {"silent", "equivocate", "double_spend",
                                               "fake_orders"};
const std::vector<std::string> log_levels = {"trace", "debug", "info", "warn", "error"};

// "a-b" where a and b are names of sites or nodes: checked later against the scenario, so here
// only the shape. Names may contain '-', so the split is decided then too.
std::vector<std::pair<std::string, std::string>> raw_pairs(const MapReader& map,
                                                           std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : map.text_list(key, true)) out.emplace_back(item, "");
  return out;
}

void read_groups(const MapReader& map, Disruption& out) {
  Diagnostics& d = map.diagnostics();
  const YAML::Node groups = map.child("groups", true);
  if (!groups.IsDefined()) return;
  if (!groups.IsSequence() || groups.size() < 2) {
    d.error(groups, map.path_of("groups"), "expected a list of at least two groups of nodes");
    return;
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const std::string path = map.path_of("groups") + "[" + std::to_string(i) + "]";
    std::vector<std::string> group;
    if (!groups[i].IsSequence() || groups[i].size() == 0) {
      d.error(groups[i], path, "expected a non-empty list of nodes");
      continue;
    }
    for (const auto& item : groups[i]) group.push_back(item.IsScalar() ? item.Scalar() : "");
    out.groups.push_back(std::move(group));
  }
}

}  // namespace

Consensus read_consensus(const MapReader& map) {
  Diagnostics& d = map.diagnostics();
  Consensus c;
  c.protocol = map.choice("protocol", protocol_names, "consensus protocol").value_or(c.protocol);
  c.heartbeat_ms = map.integer_or("heartbeat_ms", c.heartbeat_ms, 1, 60'000);
  c.election_timeout_ms = map.integer_or("election_timeout_ms", c.election_timeout_ms, 2, 600'000);
  if (c.election_timeout_ms < 2 * c.heartbeat_ms) {
    d.error(map.child("election_timeout_ms").IsDefined() ? map.child("election_timeout_ms")
                                                         : map.node(),
            map.path_of("election_timeout_ms"),
            "must be at least twice heartbeat_ms (" + std::to_string(c.heartbeat_ms) +
                "), or followers time out between heartbeats");
  }
  c.batch_trades_max =
      static_cast<std::uint32_t>(map.integer_or("batch_trades_max", 4096, 1, 4096));
  c.epoch_ms = map.integer_or("epoch_ms", c.epoch_ms, 1, 600'000);
  c.difficulty_bits = static_cast<std::uint32_t>(map.integer_or("difficulty_bits", 16, 0, 64));
  c.confirmations = static_cast<std::uint32_t>(map.integer_or("confirmations", 6, 0, 1000));
  if (map.has("byzantine")) {
    MapReader b(d, map.child("byzantine"), map.path_of("byzantine"), {"nodes", "attack_types"});
    c.byzantine_nodes = static_cast<std::uint32_t>(b.integer_or("nodes", 0, 0, count_max));
    const auto attacks = b.text_list("attack_types");
    for (std::size_t i = 0; i < attacks.size(); ++i) {
      if (std::find(attack_names.begin(), attack_names.end(), attacks[i]) == attack_names.end()) {
        d.error(
            b.child("attack_types")[i], b.path_of("attack_types") + "[" + std::to_string(i) + "]",
            "unknown attack '" + attacks[i] + "' (expected one of: " + one_of(attack_names) + ")");
      }
    }
    c.attack_types = attacks;
    if (c.protocol == ConsensusProtocol::raft && c.byzantine_nodes > 0) {
      d.error(b.node(), b.path(),
              "raft does not tolerate Byzantine validators; use streamlet or pow");
    }
  }
  return c;
}

Disruption read_disruption(Diagnostics& d, const YAML::Node& node, const std::string& path,
                           const std::string& name) {
  Disruption out;
  out.name = name;
  out.line = line_of(node);
  const YAML::Node type_node = node.IsMap() ? node["type"] : YAML::Node();
  std::optional<DisruptionType> type;
  if (type_node.IsDefined() && type_node.IsScalar())
    type = disruption_names.first_of(type_node.Scalar());
  if (!type) {
    MapReader map(d, node, path, {"type"});
    map.choice("type", disruption_names, "disruption type", true);
    return out;
  }
  out.type = *type;
  std::vector<std::string_view> keys = {"type", "start_seconds", "duration_seconds"};
  switch (out.type) {
    case DisruptionType::congestion:
      keys.insert(keys.end(), {"affected_links", "latency_multiplier", "bandwidth_reduction"});
      break;
    case DisruptionType::node_failure:
      keys.insert(keys.end(), {"target_node", "recovery_time_seconds"});
      break;
    case DisruptionType::regional_outage:
      keys.insert(keys.end(), {"affected_region", "latency_multiplier"});
      break;
    case DisruptionType::partition:
      keys.insert(keys.end(), {"groups", "one_way", "mode"});
      break;
  }
  MapReader map(d, node, path, keys);
  out.start_ms = map.scaled("start_seconds", 3, 0, duration_ms_max, true).value_or(0);
  out.duration_ms = map.scaled("duration_seconds", 3, 1, duration_ms_max, true).value_or(1);
  switch (out.type) {
    case DisruptionType::congestion:
      out.links = raw_pairs(map, "affected_links");
      out.latency_multiplier_milli =
          static_cast<std::uint32_t>(map.scaled_or("latency_multiplier", 3, 1000, 1000, 1'000'000));
      out.bandwidth_reduction_ppm =
          static_cast<std::uint32_t>(map.scaled_or("bandwidth_reduction", 6, 0, 0, 999'999));
      break;
    case DisruptionType::node_failure:
      out.target = map.text("target_node", "", true);
      out.recovery_ms = map.scaled_or("recovery_time_seconds", 3, 0, 0, duration_ms_max);
      break;
    case DisruptionType::regional_outage:
      out.region = map.text("affected_region", "", true);
      // Without a multiplier the region is cut off; with one, its links slow down.
      out.latency_multiplier_milli =
          static_cast<std::uint32_t>(map.scaled_or("latency_multiplier", 3, 0, 1000, 1'000'000));
      break;
    case DisruptionType::partition:
      read_groups(map, out);
      out.one_way = map.boolean("one_way", false);
      out.reset = map.choice("mode", {"blackhole", "reset"}, "partition mode").value_or(0) == 1;
      break;
  }
  return out;
}

Monitoring read_monitoring(Diagnostics& d, const YAML::Node& node) {
  Monitoring m;
  if (!node.IsDefined()) return m;
  MapReader map(d, node, "monitoring",
                {"enable_real_time_monitoring", "metrics_interval_seconds",
                 "scrape_interval_seconds", "history_points", "alerts_kept", "log_level",
                 "enable_network_visualization", "alert_thresholds", "alert_hysteresis", "id"});
  m.enabled = map.boolean("enable_real_time_monitoring", true);
  m.metrics_interval_ms = map.scaled_or("metrics_interval_seconds", 3, 10'000, 100, 3'600'000);
  m.scrape_interval_ms =
      map.scaled_or("scrape_interval_seconds", 3, m.scrape_interval_ms, 100, 60'000);
  m.history_points = map.integer_or("history_points", m.history_points, 10, 100'000);
  m.alerts_kept = map.integer_or("alerts_kept", m.alerts_kept, 1, 100'000);
  if (auto level = map.choice("log_level", log_levels, "log level"))
    m.log_level = log_levels[*level];
  m.network_visualization = map.boolean("enable_network_visualization", true);
  if (map.has("alert_thresholds")) {
    MapReader a(d, map.child("alert_thresholds"), "monitoring.alert_thresholds",
                {"max_latency_ms", "max_packet_loss", "min_bandwidth_kbps", "max_price_divergence",
                 "stale_after_seconds", "commit_stall_election_timeouts",
                 "settlement_lag_floor_seconds", "settlement_lag_window_seconds"});
    auto& t = m.alert_thresholds;
    t.max_latency_us = a.scaled_or("max_latency_ms", 3, t.max_latency_us, 0, latency_us_max);
    t.max_packet_loss_ppm = static_cast<std::uint32_t>(
        a.scaled_or("max_packet_loss", 6, t.max_packet_loss_ppm, 0, 1'000'000));
    t.min_bandwidth_kbps =
        a.integer_or("min_bandwidth_kbps", t.min_bandwidth_kbps, 0, bandwidth_kbps_max);
    t.max_price_divergence_ppm = static_cast<std::uint32_t>(
        a.scaled_or("max_price_divergence", 6, t.max_price_divergence_ppm, 0, 1'000'000));
    t.stale_after_ms = a.scaled_or("stale_after_seconds", 3, t.stale_after_ms, 100, 3'600'000);
    t.commit_stall_timeouts =
        a.integer_or("commit_stall_election_timeouts", t.commit_stall_timeouts, 1, 1'000);
    t.settlement_lag_floor_ms =
        a.scaled_or("settlement_lag_floor_seconds", 3, t.settlement_lag_floor_ms, 0, 3'600'000);
    t.settlement_lag_window_ms =
        a.scaled_or("settlement_lag_window_seconds", 3, t.settlement_lag_window_ms, 100, 3'600'000);
  }
  if (map.has("alert_hysteresis")) {
    MapReader h(d, map.child("alert_hysteresis"), "monitoring.alert_hysteresis",
                {"raise_after_seconds", "clear_after_seconds", "band", "event_hold_seconds"});
    auto& hy = m.alert_hysteresis;
    hy.raise_after_ms = h.scaled_or("raise_after_seconds", 3, hy.raise_after_ms, 0, 3'600'000);
    hy.clear_after_ms = h.scaled_or("clear_after_seconds", 3, hy.clear_after_ms, 0, 3'600'000);
    hy.band_ppm = static_cast<std::uint32_t>(h.scaled_or("band", 6, hy.band_ppm, 0, 999'999));
    hy.event_hold_ms = h.scaled_or("event_hold_seconds", 3, hy.event_hold_ms, 0, 3'600'000);
  }
  return m;
}

}  // namespace mkt::scenario::detail
