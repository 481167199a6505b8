#include "mkt/monitor/config.h"

namespace mkt::monitor {

RuleParams rule_params(const scenario::Scenario& scenario) {
  const scenario::AlertThresholds& t = scenario.monitoring.alert_thresholds;
  return {.max_latency_us = t.max_latency_us,
          .max_packet_loss_ppm = t.max_packet_loss_ppm,
          .min_bandwidth_kbps = t.min_bandwidth_kbps,
          .election_timeout_ms = scenario.consensus.election_timeout_ms,
          .commit_stall_timeouts = t.commit_stall_timeouts,
          .stale_after_ms = t.stale_after_ms,
          .max_price_divergence_ppm = t.max_price_divergence_ppm,
          .lag_floor_ms = t.settlement_lag_floor_ms,
          .lag_window_ms = t.settlement_lag_window_ms};
}

Hysteresis hysteresis(const scenario::Monitoring& monitoring) {
  const scenario::AlertHysteresis& h = monitoring.alert_hysteresis;
  constexpr std::int64_t ns_per_ms = 1'000'000;
  return {.raise_after_ns = h.raise_after_ms * ns_per_ms,
          .clear_after_ns = h.clear_after_ms * ns_per_ms,
          .band = static_cast<double>(h.band_ppm) / 1e6,
          .event_hold_ns = h.event_hold_ms * ns_per_ms};
}

}  // namespace mkt::monitor
