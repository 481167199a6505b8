#pragma once
// The market's alert rules, over one observation of the whole market at a time. Each rule makes
// checks (see alerts.h) and the AlertBook raises and resolves them. Rules that need the past (a
// commit that stopped advancing, a lag that keeps growing, a leader that changed) keep what they
// need here; everything else is in the observation.
//
// The rules, by name:
// - link_latency (warning): a link's p99 applied delay above max_latency.
// - link_loss (warning): a link's segment loss rate above max_packet_loss.
// - link_bandwidth (warning): a link's bandwidth cap below min_bandwidth.
// - partition (critical): a link the proxy black-holes, or one a node reports it cannot reach
//   while the other end answers the monitor (a Raft leader's or candidate's raft_peer_reachable).
// - node_down (error): a process that does not answer on the management path.
// - leader_change (info, an event): the cluster's leader is another node than before.
// - no_leader (error): no validator that answers leads.
// - commit_stall (critical): the commit index has not moved for commit_stall_timeouts election
//   timeouts while an exchange has trades waiting to settle.
// - stale_market_data (warning): a venue that answers but whose prices have not changed for
//   stale_after while agents trade on it.
// - price_divergence (warning): one symbol's mid prices across venues further apart than
//   max_price_divergence (of the lowest).
// - agent_disconnected (warning): an agent that answers but has no market data stream from a venue
//   it trades on.
// - settlement_lag_growing (warning): an exchange's settlement lag above lag_floor that has grown
//   over the whole of lag_window.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mkt/monitor/alerts.h"

namespace mkt::monitor {

struct RuleParams {
  std::int64_t max_latency_us = 1'000'000;
  std::uint32_t max_packet_loss_ppm = 100'000;
  std::int64_t min_bandwidth_kbps = 100;
  std::int64_t election_timeout_ms = 1'000;
  std::int64_t commit_stall_timeouts = 5;
  std::int64_t stale_after_ms = 10'000;
  std::uint32_t max_price_divergence_ppm = 20'000;
  std::int64_t lag_floor_ms = 2'000;
  std::int64_t lag_window_ms = 10'000;
};

struct LinkObservation {
  std::string from, to;
  bool carried_traffic = false;  // since the last observation: a delay is only judged then
  double delay_p99_us = 0;
  double loss_ppm = 0;
  std::int64_t bandwidth_cap_kbps = 0;  // 0: not capped
  bool partitioned = false;             // by the proxy
  bool unreachable = false;             // reported by `from`
};

struct NodeObservation {
  std::string id;
  std::string role;  // exchange, validator, agent, proxy
  bool up = false;
  std::string error;  // why it did not answer
};

struct ValidatorObservation {
  std::string id;
  std::int64_t term = 0;
  bool leads = false;
  std::int64_t commit_index = 0;
};

struct QuoteObservation {
  std::string venue, symbol;
  std::optional<double> mid_ticks;  // none while a side is empty
  std::int64_t changed_ns = 0;      // when its prices last changed (0: never seen)
  double tick_size = 1;             // the price of a tick, for evidence a person reads
};

struct ExchangeObservation {
  std::string id;
  double settlement_lag_ms = 0;
};

struct AgentFeed {
  std::string agent, venue;
  bool connected = false;
};

struct Observation {
  std::vector<NodeObservation> nodes;
  std::vector<LinkObservation> links;
  std::vector<ValidatorObservation> validators;  // of those up
  std::vector<QuoteObservation> quotes;
  std::vector<ExchangeObservation> exchanges;  // of those up
  std::vector<AgentFeed> feeds;                // of the agents up
  bool agents_trading = false;                 // orders were sent since the last observation
};

class Rules {
 public:
  explicit Rules(RuleParams params, Hysteresis hysteresis = {}, std::size_t history_max = 1000);

  // Judges one observation taken at `now_ns` (observations come in time order).
  std::vector<AlertChange> observe(const Observation& observation, std::int64_t now_ns);

  const AlertBook& book() const { return book_; }
  const RuleParams& params() const { return params_; }

 private:
  std::vector<Check> link_checks(const Observation& o) const;
  std::vector<Check> node_checks(const Observation& o) const;
  std::vector<Check> consensus_checks(const Observation& o, std::int64_t now_ns);
  std::vector<Check> market_checks(const Observation& o, std::int64_t now_ns) const;
  std::vector<Check> settlement_checks(const Observation& o, std::int64_t now_ns);

  RuleParams params_;
  AlertBook book_;
  std::string leader_;  // the last leader seen
  std::int64_t commit_index_ = -1;
  std::int64_t commit_moved_ns_ = 0;
  // Per exchange, its lag over the last lag_window (time, lag).
  std::map<std::string, std::vector<std::pair<std::int64_t, double>>> lags_;
};

}  // namespace mkt::monitor
