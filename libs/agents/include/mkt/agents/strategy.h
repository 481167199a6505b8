#pragma once
// What a strategy is: a decision function over what the agent knows (books, its own orders and
// position, the noisy fundamental value, peer signals, the clock), returning what it wants done
// (orders, cancels, signals to share). No I/O: agentd feeds it from the network, the tests from
// scripted books, and both get the same decisions.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mkt/agents/local_book.h"
#include "mkt/core/hash.h"

namespace mkt::agents {

using matching::Side;

// A seeded sequence of draws (SplitMix64): one per agent, from the scenario's seed and its id.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return core::splitmix64(state_); }
  double uniform() { return core::unit_interval(next()); }  // [0, 1)
  // Uniform in [lo, hi]; lo when hi <= lo.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  double normal();  // standard normal
  bool chance(double p) { return uniform() < p; }

 private:
  std::uint64_t state_;
};

struct SymbolInfo {
  std::string name;
  std::int64_t reference_ticks = 0;     // the opening price and the fundamental's long-run mean
  std::int64_t cents_per_tick_lot = 1;  // cash of one tick on one lot
};

enum class Tif : std::uint8_t { gtc, ioc };

// An order a strategy asks for. price_ticks 0 is a market order (IOC by nature).
struct OrderRequest {
  std::string venue;
  std::string symbol;
  Side side = Side::buy;
  std::int64_t price_ticks = 0;
  std::int64_t quantity_lots = 0;
  Tif tif = Tif::gtc;
  bool post_only = false;
};

// An order that takes what it can at price_ticks or better now and cancels the rest.
inline OrderRequest take_order(std::string venue, std::string symbol, Side side,
                               std::int64_t price_ticks, std::int64_t quantity_lots) {
  return {.venue = std::move(venue),
          .symbol = std::move(symbol),
          .side = side,
          .price_ticks = price_ticks,
          .quantity_lots = quantity_lots,
          .tif = Tif::ioc,
          .post_only = false};
}

enum class OrderStatus : std::uint8_t {
  queued,  // decided; waiting out the agent's reaction time
  sent,    // on the wire, not acknowledged yet
  open,    // acknowledged by the venue and resting (or partly filled)
  done,    // filled, cancelled or rejected
};

// An order of this agent, as it knows it.
struct OwnOrder {
  std::uint64_t id = 0;  // the agent's own number; client_order_id is "<agent>-<id>"
  OrderRequest request;
  OrderStatus status = OrderStatus::queued;
  std::uint64_t exchange_id = 0;  // from the venue's acceptance
  std::int64_t remaining_lots = 0;
  std::int64_t filled_lots = 0;
  std::int64_t decided_ns = 0;
  std::int64_t sent_ns = 0;
  bool cancel_requested = false;
};

enum class SignalKind : std::uint8_t { buy, sell, fair_value, volatility, arbitrage };

// A signal a strategy wants shared with its peers (agentd gossips it when the agent's
// information_sharing is on).
struct SignalRequest {
  std::string symbol;
  SignalKind kind = SignalKind::buy;
  std::uint32_t confidence_ppm = 0;
  std::int64_t value_ticks = 0;
  std::vector<std::string> venues;
};

// A trade a strategy wants done together with its coalition (the coordinated strategy): every
// member trades quantity_lots on the same venue and side, at limit_price_ticks or better.
struct CoordinatedTrade {
  std::string venue;
  std::string symbol;
  Side side = Side::buy;
  std::int64_t limit_price_ticks = 0;
  std::int64_t quantity_lots = 0;
};

struct Decisions {
  std::vector<OrderRequest> orders;
  std::vector<std::uint64_t> cancels;  // own order ids
  std::vector<SignalRequest> signals;
  std::optional<CoordinatedTrade> coordinated;
};

// One fill of an own order.
struct OwnFill {
  std::uint64_t order_id = 0;
  std::string venue;
  std::string symbol;
  Side side = Side::buy;
  std::int64_t price_ticks = 0;
  std::int64_t quantity_lots = 0;
};

class View;
struct CoordinationParams;
struct BrokerTerms;

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view name() const = 0;
  // How often decide() runs when nothing else wakes it.
  virtual std::int64_t interval_ms() const = 0;
  // Whether a change of a book it trades also wakes it (arbitrage does; a noise trader does not).
  virtual bool reacts_to_books() const { return false; }
  virtual void decide(View& view, Decisions& out) = 0;
  virtual void on_fill(View& /*view*/, const OwnFill& /*fill*/) {}
  // A coalition member's protocol parameters; null for a strategy that trades alone.
  virtual const CoordinationParams* coordination() const { return nullptr; }
  // An information broker's terms; null for a strategy that is not one.
  virtual const BrokerTerms* broker_terms() const { return nullptr; }
};

}  // namespace mkt::agents
