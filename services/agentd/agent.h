#pragma once
// The agent's runtime: libs/agents' Trader bound to the network. For each venue it trades on it
// keeps a market data stream (feeding the local books; a gap re-subscribes for a fresh snapshot)
// and an order session (sending what the strategy decided, feeding back acks and fills). Every
// connection goes through the proxy under the agent's node id. Decisions run on the strategy's
// interval, and on book changes for strategies that react to them; what a decision asks for
// leaves after the agent's reaction time.
//
// Peers (peers.cpp): signals are gossiped to a few peers at a time and forwarded one hop further
// by those that share information; a broker passes trusted origins' signals to its subscribers;
// coalition members run the two-phase protocol of libs/agents' Coordination. These calls go
// through the proxy too, so how fast information spreads is a network effect.
//
// Everything runs on one strand; the gRPC bridges post their messages to it.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mkt/agents/coordination.h"
#include "mkt/agents/setup.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/stream.h"
#include "mkt/runtime/tls.h"

namespace mkt::runtime {
class TelemetryService;
}

namespace market::exchange::v1 {
class MarketDataEvent;
class SessionEvent;
}  // namespace market::exchange::v1
namespace market::peer::v1 {
class Signal;
class SignalBatch;
class CoordinationMessage;
class CoordinationReply;
class SubscribeRequest;
}  // namespace market::peer::v1

namespace mkt::agents {
class AdaptiveTrader;
}  // namespace mkt::agents

namespace mkt::agentd {

using runtime::Strand;

struct AgentOptions {
  std::string node_id;
  std::string proxy_address;                        // empty: direct connections
  std::shared_ptr<const runtime::TlsIdentity> tls;  // mutual TLS on every channel, when set
  std::string api_key;
  std::map<std::string, std::string> venue_addresses;  // exchange id -> host:port
  std::int64_t reaction_time_us = 0;
  // Where another node's peer service is (host:port); nullopt while it is not known yet.
  std::function<std::optional<std::string>(const std::string&)> address_of;
  // Each signal goes to this many of the gossip peers, drawn.
  std::size_t gossip_fanout = 4;
  // The time the trader and the peer protocols are given (timers still wait on the real clock).
  const runtime::Clock* clock = &runtime::system_clock();
  // Where an adaptive agent publishes its strategy switches (on the strand); none when null.
  runtime::TelemetryService* telemetry = nullptr;
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

  // The peer service's calls, on the strand.
  grpc::Status on_signals(const market::peer::v1::SignalBatch& batch);
  grpc::Status on_coordinate(const market::peer::v1::CoordinationMessage& message,
                             market::peer::v1::CoordinationReply& reply);
  grpc::Status on_subscribe(std::shared_ptr<runtime::Stream<market::peer::v1::Signal>> stream,
                            const market::peer::v1::SubscribeRequest& request);

 private:
  struct Venue;
  struct PeerLink;
  struct Subscriber;
  struct Subscription;
  using Outbox = agents::Outbox;

  void open_market_data(Venue& venue);
  void open_session(Venue& venue);
  void retry_later(Venue& venue, bool session);
  void cancel_leftovers(Venue& venue);
  void on_market_data(Venue& venue, const market::exchange::v1::MarketDataEvent& event);
  void on_session_event(Venue& venue, const market::exchange::v1::SessionEvent& event);
  void schedule_tick();
  void decide_soon();
  void decide();
  void dispatch(Outbox outbox);
  void release(const Outbox& outbox);
  void send_order(const agents::OwnOrder& order, std::int64_t now_ns);
  bool send_submit(const agents::OwnOrder& order);
  void send_cancel(const agents::OwnOrder& order);
  Venue* venue(const std::string& id);
  void refresh_gauges();

  // peers.cpp
  void start_peers();
  void stop_peers();
  PeerLink* peer_link(const std::string& id);
  void receive(const agents::PeerSignal& signal, const std::string& from, bool forward);
  void gossip(const agents::PeerSignal& signal, const std::string& except);
  void flush(PeerLink& link);
  void subscribe(Subscription& subscription);
  void sell(const agents::PeerSignal& signal);
  void propose(const agents::CoordinatedTrade& trade);
  void resolve(const agents::Coordination::Resolution& resolution);
  void place_leg(const agents::Leg& leg);
  void send_coordination(
      const std::string& partner, const market::peer::v1::CoordinationMessage& message,
      std::function<void(bool ok, const market::peer::v1::CoordinationReply&)> done);
  void watch_coordination();
  void refresh_peer_gauges();
  void publish_switch();

  AgentOptions options_;
  agents::Trader trader_;
  Strand strand_;
  std::vector<std::unique_ptr<Venue>> venues_;
  boost::asio::steady_timer tick_;
  boost::asio::steady_timer gauges_;
  bool decision_posted_ = false;
  bool stopped_ = false;

  agents::Random draws_;  // which peers hear a signal
  bool sharing_ = false;  // information_sharing: it originates and forwards signals
  std::vector<std::string> gossip_peers_;
  std::vector<std::string> brokers_;
  const agents::BrokerTerms* broker_ = nullptr;
  const agents::AdaptiveTrader* adaptive_ = nullptr;  // for its metrics
  std::size_t arm_published_ = SIZE_MAX;              // the arm the last switch event named
  std::optional<agents::Coordination> coordination_;
  boost::asio::steady_timer coordination_timer_;
  std::map<std::string, std::unique_ptr<PeerLink>> peer_links_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;  // to brokers
  std::vector<std::unique_ptr<Subscriber>> subscribers_;      // of this broker

  struct Metrics {
    metrics::Counter& decisions;
    metrics::Counter& orders_sent;
    metrics::Counter& orders_unsent;
    metrics::Counter& orders_indeterminate;
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
    // Peers.
    std::map<agents::Admission, metrics::Counter*> signals_received;
    metrics::Counter& signals_originated;
    metrics::Counter& signals_forwarded;
    metrics::Counter& signals_dropped;
    metrics::Counter& signal_sends_failed;
    metrics::Histogram& signal_age;
    metrics::Histogram& signal_hops;
    metrics::Counter& signals_sold;
    metrics::Gauge& subscribers;
    std::map<std::string, metrics::Gauge*> coordination;   // by event
    std::vector<std::array<metrics::Gauge*, 2>> adaptive;  // per strategy: episodes, current
    std::map<std::string, std::array<metrics::Gauge*, 3>, std::less<>>
        reputation;  // by origin: score (ppm), judged, wrong
  } metrics_;
  metrics::Registry& registry_;
};

}  // namespace mkt::agentd
