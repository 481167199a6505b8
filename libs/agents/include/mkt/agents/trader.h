#pragma once
// The agent without its network: a strategy, the books of the venues it trades on, its orders,
// its position and cash, and its risk limits. agentd turns market data and order events into calls
// here and sends what decide() returns; the tests script the same calls.
//
// Every order a strategy asks for passes the risk limits first (a refused one is counted and never
// sent). Positions are per symbol over all venues; cash is in cents; profit and loss is the equity
// (cash plus positions marked at the mid, else the last trade, else the reference price) minus the
// starting cash.

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/agents/fundamental.h"
#include "mkt/agents/local_book.h"
#include "mkt/agents/signals.h"
#include "mkt/agents/strategy.h"

namespace mkt::agents {

struct AgentRisk {
  std::int64_t max_order_lots = 10'000;
  std::int64_t max_position_lots = 100'000;  // absolute, per symbol, counting open orders
  std::uint32_t max_open_orders = 100;
};

struct VenueInfo {
  std::string id;
  std::vector<std::string> symbols;
};

struct TraderConfig {
  std::string agent_id;
  // Client order ids are "<order_prefix>-<n>"; the agent's id when empty. agentd adds a stamp
  // of its start, so that a restarted agent does not reuse an id the venue has seen (it would
  // refuse it as a duplicate).
  std::string order_prefix;
  std::vector<VenueInfo> venues;
  std::vector<SymbolInfo> symbols;  // every symbol of any venue
  std::int64_t initial_cash_cents = 0;
  AgentRisk risk;
  std::uint64_t seed = 0;                       // the scenario's
  std::int64_t epoch_ns = 0;                    // market time 0 (the fundamental's start)
  std::vector<FundamentalParams> fundamentals;  // per symbol, as `symbols`
  GossipParams gossip;
  ReputationParams reputation;
};

// What is refused before it leaves, and why.
enum class RiskRefusal : std::uint8_t {
  unknown_venue_or_symbol,
  invalid_quantity,
  invalid_price,
  order_size,
  position,
  open_orders,
};
inline constexpr RiskRefusal all_risk_refusals[] = {RiskRefusal::unknown_venue_or_symbol,
                                                    RiskRefusal::invalid_quantity,
                                                    RiskRefusal::invalid_price,
                                                    RiskRefusal::order_size,
                                                    RiskRefusal::position,
                                                    RiskRefusal::open_orders};
std::string_view to_string(RiskRefusal refusal);

// What decide() wants sent: orders (with their own ids), cancels and signals for the peers.
struct Outbox {
  std::vector<OwnOrder> orders;
  std::vector<OwnOrder> cancels;  // orders with an exchange id, to cancel
  std::vector<PeerSignal> signals;
  std::optional<CoordinatedTrade> coordinated;
};

// A peer's signal as a strategy sees it: weight = confidence x decay with age x the origin's
// reputation.
struct WeightedSignal {
  const PeerSignal* signal = nullptr;
  double weight = 0;
};

class Trader {
 public:
  Trader(TraderConfig config, std::unique_ptr<Strategy> strategy);
  ~Trader();
  Trader(const Trader&) = delete;
  Trader& operator=(const Trader&) = delete;

  const TraderConfig& config() const { return config_; }
  Strategy& strategy() { return *strategy_; }

  // The book of a venue's symbol, to feed from market data; null if the venue does not list it.
  LocalBook* book(std::string_view venue, std::string_view symbol);

  // Runs the strategy at wall time now_ns and returns what passed the risk limits. New orders are
  // recorded as queued; mark them sent() when they go out.
  Outbox decide(std::int64_t now_ns);

  // An order decided outside decide() (a leg of a coordinated trade): it passes the risk limits
  // or is refused with the reason; an accepted one is queued, to send as decide()'s are.
  std::expected<OwnOrder, RiskRefusal> place(OrderRequest request, std::int64_t now_ns);
  // Why the risk limits would refuse an order now; nullopt when they would let it go.
  std::optional<RiskRefusal> check(const OrderRequest& request) const;

  // A signal from a peer: admitted once (Gossip), counted and, when it can be checked, judged
  // (Reputation). The caller forwards fresh ones.
  Admission on_signal(const PeerSignal& signal, std::int64_t now_ns);
  const Reputation& reputation() const { return reputation_; }
  Gossip& gossip() { return gossip_; }

  // False when the order is gone (cancelled while queued): do not send it then.
  bool sent(std::uint64_t order_id, std::int64_t now_ns);
  // The venue's answers. Each returns false for an order id this agent does not know (an order of
  // an earlier run of it, say), and changes nothing then.
  // on_accepted returns the order to cancel at once when a cancel was asked before the ack.
  bool on_accepted(std::uint64_t order_id, std::uint64_t exchange_id, std::int64_t now_ns,
                   std::optional<OwnOrder>* cancel_now);
  bool on_rejected(std::uint64_t order_id, std::int64_t now_ns);
  bool on_fill(std::uint64_t order_id, std::int64_t price_ticks, std::int64_t quantity_lots,
               std::int64_t remaining_lots, std::int64_t now_ns);
  bool on_cancelled(std::uint64_t order_id);
  // The order's session broke: what was sent and not acknowledged is unknown now; it is counted
  // done (the venue rejects a resend by client id anyway). Returns how many were sent and not
  // acknowledged: indeterminate orders, which may have reached the venue or not.
  std::size_t venue_lost(std::string_view venue);

  // State, for the view, metrics and tests.
  std::int64_t position(std::string_view symbol) const;
  std::int64_t cash_cents() const { return cash_cents_; }
  // Cash plus every position at its mark, minus the starting cash.
  std::int64_t pnl_cents() const;
  std::int64_t mark_ticks(std::string_view symbol) const;
  const OwnOrder* order(std::uint64_t id) const;
  std::vector<const OwnOrder*> live_orders() const;  // not done, oldest first
  std::uint64_t refused(RiskRefusal refusal) const;
  std::uint64_t fills() const { return fills_; }
  std::int64_t traded_lots() const { return traded_lots_; }
  // Smoothed round trip from sending an order to its acknowledgement, per venue; 0 until one.
  std::int64_t round_trip_ns(std::string_view venue) const;

  // Parses "<prefix>-<n>" back into n; nullopt for another agent's (or another run's) or a
  // malformed id.
  std::optional<std::uint64_t> order_id_of(std::string_view client_order_id) const;
  std::string client_order_id(std::uint64_t order_id) const;

 private:
  friend class View;
  struct VenueState {
    std::map<std::string, LocalBook, std::less<>> books;
    std::int64_t round_trip_ns = 0;
  };

  Outbox collect(Decisions& decisions, std::int64_t now_ns);
  const SymbolInfo* symbol_info(std::string_view symbol) const;
  void finish(OwnOrder& order);

  TraderConfig config_;
  std::unique_ptr<Strategy> strategy_;
  Random random_;
  std::map<std::string, VenueState, std::less<>> venues_;
  std::map<std::string, FundamentalValue, std::less<>> fundamentals_;
  std::map<std::uint64_t, OwnOrder> orders_;  // live ones
  std::map<std::string, std::int64_t, std::less<>> positions_;
  std::int64_t cash_cents_ = 0;
  std::uint64_t next_order_id_ = 1;
  std::map<RiskRefusal, std::uint64_t> refused_;
  Gossip gossip_;
  Reputation reputation_;
  std::uint64_t fills_ = 0;
  std::int64_t traded_lots_ = 0;
};

// What a strategy reads while it decides: the trader's state at one instant.
class View {
 public:
  View(Trader& trader, std::int64_t now_ns) : trader_(trader), now_ns_(now_ns) {}

  std::int64_t now_ns() const { return now_ns_; }
  // Milliseconds since the market's start.
  std::int64_t market_ms() const;
  const std::string& agent_id() const { return trader_.config_.agent_id; }
  const std::vector<VenueInfo>& venues() const { return trader_.config_.venues; }
  const std::vector<SymbolInfo>& symbols() const { return trader_.config_.symbols; }
  const SymbolInfo* symbol(std::string_view name) const { return trader_.symbol_info(name); }
  // A venue's book of a symbol, or null when it is not listed there or not ready (no snapshot
  // since a gap).
  const LocalBook* book(std::string_view venue, std::string_view symbol) const;
  std::int64_t position(std::string_view symbol) const { return trader_.position(symbol); }
  std::int64_t cash_cents() const { return trader_.cash_cents(); }
  std::int64_t pnl_cents() const { return trader_.pnl_cents(); }
  std::vector<const OwnOrder*> live_orders() const { return trader_.live_orders(); }
  const AgentRisk& risk() const { return trader_.config_.risk; }
  std::int64_t round_trip_ns(std::string_view venue) const { return trader_.round_trip_ns(venue); }
  // The fundamental value of a symbol now, seen through Gaussian noise of `noise_ticks` standard
  // deviation: the only way a strategy sees it.
  std::int64_t observe_value(std::string_view symbol, double noise_ticks);
  // The best price on a side of the venue's book once this agent's own open orders are taken out
  // of it: what the rest of the market offers. Null when nothing else is there (or no book).
  std::optional<std::int64_t> others_best(std::string_view venue, std::string_view symbol,
                                          Side side) const;
  // A price to anchor on: the mid of the venue's book, else its last trade, else the reference.
  std::int64_t anchor_ticks(std::string_view venue, std::string_view symbol) const;
  Random& random() { return trader_.random_; }
  // Peers' live signals about a symbol from origins still trusted, oldest first.
  std::vector<WeightedSignal> peer_signals(std::string_view symbol) const;
  double reputation(std::string_view origin) const { return trader_.reputation_.of(origin); }

 private:
  Trader& trader_;
  std::int64_t now_ns_;
};

}  // namespace mkt::agents
