#pragma once
// What the monitor knows of the market, without I/O: the last scrape of every node's metrics, the
// proxy's links, and bounded histories of the figures a person charts. monitord feeds it what it
// collects (with the time it did); the alert rules read the observation it makes.
//
// Figures a scrape gives, by the metric names the services use:
//   exchanges: exchange_best_price_ticks{symbol,side}, exchange_last_price_ticks{symbol},
//              exchange_trades_total{symbol}, exchange_commands_total{kind="submit"},
//              exchange_settlement_lag_seconds
//   validators: raft_term, raft_is_leader, raft_commit_index, raft_peer_reachable{peer}
//   agents: agent_pnl_cents, agent_cash_cents, agent_position_lots{symbol},
//           agent_orders_sent_total, agent_fills_total, agent_signals_originated_total,
//           agent_signals_received_total, agent_market_data_connected{venue},
//           agent_adaptive_current{strategy}
// Links come from the proxy's control API (cumulative counters); the view turns each pair of
// readings into the interval's delay (mean and p99 from the histogram's difference), loss rate
// and bandwidth in use.
//
// Histories are rings of (time, value), `history_points` long, keyed by a path:
//   price/<venue>/<symbol>/{bid,ask,last}   rate/<venue>/<symbol>/trades (per second)
//   rate/<venue>/orders                      settlement/<exchange>/lag_ms
//   consensus/<validator>/{term,commit_index}
//   agent/<agent>/{pnl_cents,position_lots,fills,orders}
//   link/<from>><to>/{delay_mean_us,delay_p99_us,loss_ppm,kbps}  (from its first traffic on)
//   fill/<agent>/<symbol>/{buy,sell}         each trade of the agent, at its price in ticks
//
// Events come from the processes' telemetry streams (trades, leader changes, link changes): the
// last `events_max` are kept, numbered from 1.

#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mkt/metrics/text.h"
#include "mkt/monitor/rules.h"
#include "mkt/scenario/scenario.h"

namespace mkt::monitor {

struct Point {
  std::int64_t t_ns = 0;
  double value = 0;
};

// The last `capacity` points, oldest first.
class Ring {
 public:
  explicit Ring(std::size_t capacity) : capacity_(capacity) {}
  void push(Point point);
  const std::deque<Point>& points() const { return points_; }

 private:
  std::size_t capacity_;
  std::deque<Point> points_;
};

// One link as the proxy reports it: its parameters and cumulative counters.
struct LinkReading {
  std::string from, to;
  bool partitioned = false;
  std::int64_t latency_us = 0;  // configured
  std::int64_t bandwidth_kbps = 0;
  std::uint32_t loss_ppm = 0;
  std::uint32_t connections_open = 0;
  std::uint64_t bytes = 0;  // from -> to
  std::uint64_t segments_lost = 0;
  std::uint64_t held_bytes = 0;
  std::vector<std::int64_t> delay_bounds_us;  // upper bounds; +Inf not listed
  std::vector<std::uint64_t> delay_counts;    // per bucket (not cumulative), +Inf last
  std::uint64_t delay_count = 0;
  std::int64_t delay_sum_us = 0;
};

// A link over the last interval between two readings.
struct LinkView {
  LinkReading reading;
  bool carried_traffic = false;
  double delay_mean_us = 0;
  double delay_p99_us = 0;  // the upper bound of the bucket the 99th percentile falls in
  double loss_ppm = 0;      // of segments (bytes / 1448, plus those lost)
  double kbps = 0;          // in use
};

struct NodeView {
  std::string id;
  std::string role;
  bool seen = false;  // answered at least once
  bool up = false;    // answered the last scrape
  std::string error;  // why the last one failed
  std::int64_t scraped_ns = 0;
  std::vector<metrics::Series> series;  // of the last good scrape

  // The first series of that name whose labels include every one given; `fallback` when none.
  double value(std::string_view name, const metrics::Labels& labels = {},
               double fallback = 0) const;
};

// One event of a process's telemetry stream, as the monitor keeps it.
struct MarketEvent {
  std::uint64_t seq = 0;  // the monitor's numbering, from 1
  std::int64_t t_ns = 0;  // when the monitor got it
  std::string node;       // who published it
  std::string kind;       // "trade", "leader_change", "link_change"
  std::string text;       // one line a person reads
  // A trade's figures (kind "trade").
  std::string symbol, buyer, seller;
  std::int64_t price_ticks = 0, quantity_lots = 0;
};

struct QuoteView {
  std::string venue, symbol;
  std::int64_t bid_ticks = 0, ask_ticks = 0, last_ticks = 0;  // 0: none
  std::int64_t changed_ns = 0;                                // the last change of any of them
  double tick_size = 1;
};

// Whether the monitor watches a node: every one but the monitor itself and external agents (a
// user's own programs: where they serve metrics, if they do, is theirs to know).
bool watched(const scenario::Node& node);

class MarketView {
 public:
  // Every watched node of the scenario.
  MarketView(const scenario::Scenario& scenario, std::size_t history_points);

  // A node's scrape at `now_ns`: its series, or why it failed.
  void scraped(const std::string& node, std::int64_t now_ns,
               std::expected<std::vector<metrics::Series>, std::string> scrape);
  // An event (its seq is given here); a trade also records the fill of each agent in it.
  void event(MarketEvent event);
  // The proxy's links at `now_ns`, or why they could not be read.
  void links(std::int64_t now_ns, std::expected<std::vector<LinkReading>, std::string> links);

  Observation observation() const;

  const std::vector<NodeView>& nodes() const { return nodes_; }
  const NodeView* node(const std::string& id) const;
  const std::vector<LinkView>& link_views() const { return links_; }
  const std::string& links_error() const { return links_error_; }
  const std::vector<QuoteView>& quotes() const { return quotes_; }
  const std::map<std::string, Ring>& history() const { return history_; }
  const std::deque<MarketEvent>& events() const { return events_; }

 private:
  void record(const std::string& key, std::int64_t now_ns, double value);
  // The per-second rate of a counter since its last reading (none on the first, or on a reset).
  void record_rate(const std::string& key, std::int64_t now_ns, double total);
  void exchange_scraped(const NodeView& node, std::int64_t now_ns);
  void agent_scraped(const NodeView& node, std::int64_t now_ns);
  void mark_unreachable(Observation& o) const;

  const scenario::Scenario& scenario_;
  std::size_t history_points_;
  std::vector<NodeView> nodes_;
  std::vector<LinkView> links_;
  std::int64_t links_read_ns_ = 0;
  std::string links_error_;
  std::vector<QuoteView> quotes_;
  std::map<std::string, Ring> history_;
  std::map<std::string, Point> counters_;  // a rate's last reading
  std::deque<MarketEvent> events_;
  std::uint64_t events_seen_ = 0;
  std::set<std::string> agents_;  // ids of the watched agents (fills are theirs only)
};

}  // namespace mkt::monitor
