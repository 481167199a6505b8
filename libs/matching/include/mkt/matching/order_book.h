#pragma once
// The order book of one symbol: price-time priority matching, I/O-free and deterministic.
//
// Each call takes one input and appends every event it causes to `out`, in the order they
// happen; the same inputs always give the same events, so a journal of inputs rebuilds the book.
// A rejected input changes nothing. The book is not thread-safe: one owner (one strand) calls it.
//
// Rules:
// - Price-time priority. A trade is at the resting order's price.
// - Modify: a smaller quantity at the same price keeps the order's place; any other change puts it
//   at the back of its new level, and if the new price crosses it trades as an arriving order.
// - Self-trade prevention acts when the incoming order meets a resting order of its own account,
//   with the incoming order's mode.
// - Stops trigger on the last trade price (buy: at or above the stop, sell: at or below), also at
//   once on arrival if the last trade already satisfies them. Triggered orders are processed in a
//   fixed order (buy stops by stop price then arrival, then sell stops likewise) until none is
//   left. A triggered order that rests queues from the moment it triggered.
// - Level events follow every change of a level's total, so applying them to an empty L2 book
//   gives this book's levels.

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "mkt/matching/types.h"

namespace mkt::matching {

struct BookLimits {
  std::uint32_t orders_max = 1'000'000;  // resting plus pending stops
  Price price_max = 1'000'000'000'000;
  Quantity quantity_max = 1'000'000'000'000;
};

class OrderBook {
 public:
  explicit OrderBook(BookLimits limits = {});
  ~OrderBook();
  OrderBook(OrderBook&&) noexcept;
  OrderBook& operator=(OrderBook&&) noexcept;
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

  void submit(const NewOrder& order, std::vector<Event>& out);
  void cancel(OrderId id, AccountId account, std::vector<Event>& out);
  // new_quantity is the new open quantity (what has filled is not counted).
  void modify(OrderId id, AccountId account, Price new_price, Quantity new_quantity,
              std::vector<Event>& out);

  // Queries. Levels best first, at most `depth` of them (0: all).
  std::vector<LevelView> levels(Side side, std::size_t depth = 0) const;
  bool best(Side side, LevelView& level) const;
  // Open orders (resting and pending stops) by id; false if not open.
  bool find(OrderId id, OrderView& view) const;
  // Resting orders of one side, best level first and in time priority within a level.
  std::vector<OrderView> resting(Side side) const;
  Price last_trade_price() const { return last_trade_price_; }  // 0 before the first trade
  std::size_t open_orders() const;

 private:
  struct Order;
  struct Level;
  struct IdMap;

  using Slot = std::uint32_t;
  static constexpr Slot none = ~Slot{0};

  static Event cancelled_event(const Order& order, CancelReason reason);
  bool validate(const NewOrder& order, std::vector<Event>& out) const;
  Slot allocate_order(const NewOrder& order);
  void release_order(Slot slot);
  void execute(Slot taker, std::vector<Event>& out);
  void match(Slot taker, std::vector<Event>& out);
  bool crosses(Side taker_side, Price limit, Price resting) const;
  Quantity fillable(const Order& taker, Quantity needed) const;
  void rest(Slot slot, std::vector<Event>& out);
  void unlink(Slot slot, std::vector<Event>* out);
  void cancel_taker(Slot taker, CancelReason reason, std::vector<Event>& out);
  void emit_level(Side side, const Level& level, std::vector<Event>& out) const;
  void add_stop(Slot slot);
  void remove_stop(const Order& order);
  void run_triggers(std::vector<Event>& out);
  Slot level_for(Side side, Price price);
  void check_not_crossed() const;
  OrderView view_of(const Order& order) const;

  BookLimits limits_;
  std::vector<Order> orders_;
  std::vector<Slot> free_orders_;
  std::vector<Level> levels_;
  std::vector<Slot> free_levels_;
  // Per side, (key, level) sorted by key ascending with the best level at the back. The key is the
  // price for bids and minus the price for asks, so one code path serves both sides.
  std::vector<std::pair<Price, Slot>> sides_[2];
  std::unique_ptr<IdMap> ids_;  // order id -> slot
  // Pending stops by (trigger key, arrival): buy stops by stop price, sell stops by minus it.
  std::map<std::pair<Price, std::uint64_t>, Slot> stops_[2];
  std::uint64_t arrivals_ = 0;
  Price last_trade_price_ = 0;
  std::size_t live_orders_ = 0;
};

}  // namespace mkt::matching
