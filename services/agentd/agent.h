#pragma once
// The agent's runtime: libs/agents' Trader bound to the network. For each venue it trades on it
// keeps a market data stream (feeding the local books; a gap re-subscribes for a fresh snapshot)
// and an order session (sending what the strategy decided, feeding back acks and fills). Every
// connection goes through the proxy under the agent's node id. Decisions run on the strategy's
// interval, and on book changes for strategies that react to them; what a decision asks for
// leaves after the agent's reaction time.
//
// Everything runs on one strand; the gRPC bridges post their messages to it.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mkt/agents/setup.h"
#include "mkt/metrics/registry.h"

namespace market::exchange::v1 {
class MarketDataEvent;
class SessionEvent;
}  // namespace market::exchange::v1

namespace mkt::agentd {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

struct AgentOptions {
  std::string node_id;
  std::string proxy_address;  // empty: direct connections
  std::string api_key;
  std::map<std::string, std::string> venue_addresses;  // exchange id -> host:port
  std::int64_t reaction_time_us = 0;
};

class Agent {
 public:
  Agent(AgentOptions options, agents::AgentSetup setup, Strand strand, metrics::Registry& registry);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // On the strand.
  void start();
  void stop();

 private:
  struct Venue;
  using Outbox = agents::Outbox;

  void open_market_data(Venue& venue);
  void open_session(Venue& venue);
  void retry_later(Venue& venue, bool session);
  void on_market_data(Venue& venue, const market::exchange::v1::MarketDataEvent& event);
  void on_session_event(Venue& venue, const market::exchange::v1::SessionEvent& event);
  void schedule_tick();
  void decide_soon();
  void decide();
  void dispatch(Outbox outbox);
  void release(const Outbox& outbox);
  bool send_submit(const agents::OwnOrder& order);
  void send_cancel(const agents::OwnOrder& order);
  Venue* venue(const std::string& id);
  void refresh_gauges();

  AgentOptions options_;
  agents::Trader trader_;
  Strand strand_;
  std::vector<std::unique_ptr<Venue>> venues_;
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer gauges_;
  bool decision_posted_ = false;
  bool stopped_ = false;

  struct Metrics {
    metrics::Counter& decisions;
    metrics::Counter& orders_sent;
    metrics::Counter& orders_unsent;
    metrics::Counter& cancels_sent;
    metrics::Counter& fills;
    metrics::Counter& rejects;
    metrics::Counter& book_gaps;
    metrics::Counter& reconnects;
    metrics::Gauge& pnl_cents;
    metrics::Gauge& cash_cents;
    metrics::Gauge& live_orders;
    metrics::Gauge& traded_lots;
    metrics::Histogram& ack_latency;
    std::vector<std::pair<std::string, metrics::Gauge*>> positions;  // by symbol
    std::vector<std::pair<agents::RiskRefusal, metrics::Gauge*>> refusals;
  } metrics_;
};

}  // namespace mkt::agentd
