#pragma once
// The vocabulary of the matching engine: orders in, events out. Prices are integers in ticks and
// quantities integers in lots; nothing here is floating point.

#include <cstdint>

namespace mkt::matching {

using OrderId = std::uint64_t;    // assigned by the caller, unique per book, never 0
using AccountId = std::uint32_t;  // the caller's dense account number
using Price = std::int64_t;       // ticks
using Quantity = std::int64_t;    // lots

enum class Side : std::uint8_t { buy, sell };
constexpr Side opposite(Side side) {
  return side == Side::buy ? Side::sell : Side::buy;
}

enum class OrderType : std::uint8_t {
  limit,       // trades at price or better
  market,      // trades at any price; never rests
  stop,        // becomes a market order when the last trade reaches stop_price
  stop_limit,  // becomes a limit order at price when the last trade reaches stop_price
};

// What each type carries and how it trades, the one place these rules are written.
constexpr bool has_limit_price(OrderType type) {
  return type == OrderType::limit || type == OrderType::stop_limit;
}
constexpr bool has_stop_price(OrderType type) {
  return type == OrderType::stop || type == OrderType::stop_limit;
}
constexpr bool trades_at_any_price(OrderType type) {  // never rests
  return type == OrderType::market || type == OrderType::stop;
}

enum class TimeInForce : std::uint8_t {
  gtc,  // the rest rests
  ioc,  // the rest is cancelled
  fok,  // all at once or rejected
};

// What an incoming order does when it would trade with a resting order of its own account.
enum class SelfTrade : std::uint8_t { cancel_newest, cancel_oldest, cancel_both };

enum class RejectReason : std::uint8_t {
  invalid_quantity,      // <= 0 or above the book's quantity_max
  invalid_price,         // <= 0 or above the book's price_max
  invalid_order_type,    // a combination the engine does not take (post-only IOC, FOK market...)
  duplicate_order_id,    // the caller reused an id
  unknown_order,         // cancel or modify of an order that is not open
  not_owner,             // cancel or modify by another account
  fok_unfillable,        // a fill-or-kill order that cannot fill in full now
  post_only_would_take,  // a post-only order (or its modification) that would trade
  no_liquidity,          // a market order met an empty book
  book_full,             // the book holds orders_max orders
};

enum class CancelReason : std::uint8_t {
  requested,      // the owner asked
  ioc_remainder,  // the unfilled rest of an IOC, FOK or market order
  self_trade,     // self-trade prevention
};

struct NewOrder {
  OrderId id = 0;
  AccountId account = 0;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  Price price = 0;       // limit and stop-limit
  Price stop_price = 0;  // stop and stop-limit
  Quantity quantity = 0;
  bool post_only = false;  // limit GTC only
  SelfTrade self_trade = SelfTrade::cancel_newest;
};

enum class EventKind : std::uint8_t {
  accepted,   // order_id entered the book (or waits for its stop price)
  rejected,   // reject: nothing changed
  fill,       // order_id (the taker) traded quantity at price with maker_order_id
  cancelled,  // order_id's quantity left the book, for reason cancel
  modified,   // order_id now has price and remaining; kept_priority says if it kept its place
  triggered,  // order_id's stop price was reached by a trade at price; it now trades
  level,      // the level (side, price) now holds quantity in level_orders orders; 0 removes it
};

// One flat record for every kind, so emitting never allocates. Fields a kind does not use are 0.
struct Event {
  EventKind kind = EventKind::accepted;
  Side side = Side::buy;  // the side of order_id (the taker for a fill), or of the level
  RejectReason reject = RejectReason::invalid_quantity;
  CancelReason cancel = CancelReason::requested;
  bool kept_priority = false;
  AccountId account = 0;  // owner of order_id
  OrderId order_id = 0;
  Price price = 0;
  Quantity quantity = 0;
  Quantity remaining = 0;  // what order_id still has open after this event
  // fill only: the resting side
  OrderId maker_order_id = 0;
  AccountId maker_account = 0;
  Quantity maker_remaining = 0;
  // level only
  std::uint32_t level_orders = 0;

  friend bool operator==(const Event&, const Event&) = default;
};

struct LevelView {
  Price price = 0;
  Quantity quantity = 0;
  std::uint32_t orders = 0;

  friend bool operator==(const LevelView&, const LevelView&) = default;
};

struct OrderView {
  OrderId id = 0;
  AccountId account = 0;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  Price price = 0;
  Price stop_price = 0;
  Quantity remaining = 0;
  bool post_only = false;
  bool pending_trigger = false;  // a stop order that has not triggered yet

  friend bool operator==(const OrderView&, const OrderView&) = default;
};

}  // namespace mkt::matching
