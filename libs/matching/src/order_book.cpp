#include "mkt/matching/order_book.h"

#include <algorithm>

#include "id_map.h"
#include "mkt/core/invariant.h"

namespace mkt::matching {

struct OrderBook::Order {
  OrderId id = 0;
  Price price = 0;
  Price stop_price = 0;
  Quantity remaining = 0;
  std::uint64_t arrival = 0;  // for the stop queue's time order
  Slot prev = none;
  Slot next = none;
  Slot level = none;  // none while in flight or pending a trigger
  AccountId account = 0;
  Side side = Side::buy;
  OrderType type = OrderType::limit;
  TimeInForce tif = TimeInForce::gtc;
  SelfTrade self_trade = SelfTrade::cancel_newest;
  bool post_only = false;
  bool pending = false;  // a stop waiting for its trigger
};

struct OrderBook::Level {
  Price price = 0;
  Quantity total = 0;
  std::uint32_t count = 0;
  Slot head = none;
  Slot tail = none;
};

struct OrderBook::IdMap : detail::FlatIdMap {};

Event OrderBook::cancelled_event(const Order& order, CancelReason reason) {
  Event event;
  event.kind = EventKind::cancelled;
  event.cancel = reason;
  event.order_id = order.id;
  event.account = order.account;
  event.side = order.side;
  event.price = order.price;
  event.quantity = order.remaining;
  return event;
}

namespace {

constexpr std::size_t index(Side side) {
  return side == Side::buy ? 0 : 1;
}
constexpr Price key_of(Side side, Price price) {
  return side == Side::buy ? price : -price;
}

// Where `key` is or would go in a side's sorted (key, level) vector.
template <class Entries>
auto position(Entries& entries, Price key) {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const auto& entry, Price k) { return entry.first < k; });
}

// A free slot of a pool, reused from `free` when there is one.
template <class T>
std::uint32_t take_slot(std::vector<T>& pool, std::vector<std::uint32_t>& free) {
  if (free.empty()) {
    pool.emplace_back();
    return static_cast<std::uint32_t>(pool.size() - 1);
  }
  const std::uint32_t slot = free.back();
  free.pop_back();
  return slot;
}

Event reject_event(OrderId id, AccountId account, Side side, RejectReason reason) {
  Event event;
  event.kind = EventKind::rejected;
  event.order_id = id;
  event.account = account;
  event.side = side;
  event.reject = reason;
  return event;
}

}  // namespace

OrderBook::OrderBook(BookLimits limits) : limits_(limits), ids_(std::make_unique<IdMap>()) {}
OrderBook::~OrderBook() = default;
OrderBook::OrderBook(OrderBook&&) noexcept = default;
OrderBook& OrderBook::operator=(OrderBook&&) noexcept = default;

std::size_t OrderBook::open_orders() const {
  return live_orders_;
}

bool OrderBook::validate(const NewOrder& order, std::vector<Event>& out) const {
  auto reject = [&](RejectReason reason) {
    out.push_back(reject_event(order.id, order.account, order.side, reason));
    return false;
  };
  const bool has_limit = has_limit_price(order.type);
  const bool has_stop = has_stop_price(order.type);
  if (order.quantity <= 0 || order.quantity > limits_.quantity_max) {
    return reject(RejectReason::invalid_quantity);
  }
  if (has_limit && (order.price <= 0 || order.price > limits_.price_max)) {
    return reject(RejectReason::invalid_price);
  }
  if (has_stop && (order.stop_price <= 0 || order.stop_price > limits_.price_max)) {
    return reject(RejectReason::invalid_price);
  }
  if (trades_at_any_price(order.type) && order.tif == TimeInForce::gtc)
    return reject(RejectReason::invalid_order_type);
  if (order.post_only && (order.type != OrderType::limit || order.tif != TimeInForce::gtc)) {
    return reject(RejectReason::invalid_order_type);
  }
  if (ids_->find(order.id) != IdMap::absent) return reject(RejectReason::duplicate_order_id);
  if (live_orders_ >= limits_.orders_max) return reject(RejectReason::book_full);
  return true;
}

void OrderBook::submit(const NewOrder& order, std::vector<Event>& out) {
  MKT_INVARIANT(order.id != 0, "order id 0 is reserved");
  if (!validate(order, out)) return;
  const bool is_stop = has_stop_price(order.type);
  const auto& opposite_side = sides_[index(opposite(order.side))];
  if (!is_stop) {
    if (order.type == OrderType::market && opposite_side.empty()) {
      out.push_back(reject_event(order.id, order.account, order.side, RejectReason::no_liquidity));
      return;
    }
    if (order.post_only && !opposite_side.empty() &&
        crosses(order.side, order.price, levels_[opposite_side.back().second].price)) {
      out.push_back(
          reject_event(order.id, order.account, order.side, RejectReason::post_only_would_take));
      return;
    }
  }
  const Slot slot = allocate_order(order);
  Order& o = orders_[slot];
  if (!is_stop && o.tif == TimeInForce::fok && fillable(o, o.remaining) < o.remaining) {
    release_order(slot);
    out.push_back(reject_event(order.id, order.account, order.side, RejectReason::fok_unfillable));
    return;
  }
  Event accepted;
  accepted.kind = EventKind::accepted;
  accepted.order_id = o.id;
  accepted.account = o.account;
  accepted.side = o.side;
  accepted.price = o.price;
  accepted.quantity = o.remaining;
  accepted.remaining = o.remaining;
  out.push_back(accepted);
  if (is_stop) {
    add_stop(slot);
  } else {
    execute(slot, out);
  }
  run_triggers(out);
  check_not_crossed();
}

void OrderBook::cancel(OrderId id, AccountId account, std::vector<Event>& out) {
  const Slot slot = ids_->find(id);
  if (slot == IdMap::absent) {
    out.push_back(reject_event(id, account, Side::buy, RejectReason::unknown_order));
    return;
  }
  Order& o = orders_[slot];
  if (o.account != account) {
    out.push_back(reject_event(id, account, o.side, RejectReason::not_owner));
    return;
  }
  out.push_back(cancelled_event(o, CancelReason::requested));
  if (o.pending) {
    remove_stop(o);
  } else {
    unlink(slot, &out);
  }
  release_order(slot);
}

void OrderBook::modify(OrderId id, AccountId account, Price new_price, Quantity new_quantity,
                       std::vector<Event>& out) {
  const Slot slot = ids_->find(id);
  if (slot == IdMap::absent) {
    out.push_back(reject_event(id, account, Side::buy, RejectReason::unknown_order));
    return;
  }
  Order& o = orders_[slot];
  auto reject = [&](RejectReason reason) {
    out.push_back(reject_event(id, account, o.side, reason));
  };
  if (o.account != account) return reject(RejectReason::not_owner);
  if (new_quantity <= 0 || new_quantity > limits_.quantity_max) {
    return reject(RejectReason::invalid_quantity);
  }
  const bool has_limit = has_limit_price(o.type);
  if (!has_limit && new_price != o.price) return reject(RejectReason::invalid_price);
  if (has_limit && (new_price <= 0 || new_price > limits_.price_max)) {
    return reject(RejectReason::invalid_price);
  }
  const auto& opposite_side = sides_[index(opposite(o.side))];
  if (o.post_only && !opposite_side.empty() &&
      crosses(o.side, new_price, levels_[opposite_side.back().second].price)) {
    return reject(RejectReason::post_only_would_take);
  }

  const bool keeps_priority = new_price == o.price && new_quantity <= o.remaining;
  Event modified;
  modified.kind = EventKind::modified;
  modified.order_id = id;
  modified.account = o.account;
  modified.side = o.side;
  modified.price = new_price;
  modified.remaining = new_quantity;
  modified.kept_priority = keeps_priority;
  out.push_back(modified);

  if (o.pending) {
    remove_stop(o);
    o.price = new_price;
    o.remaining = new_quantity;
    if (!keeps_priority) o.arrival = ++arrivals_;
    add_stop(slot);
    return;
  }
  if (keeps_priority) {
    Level& level = levels_[o.level];
    level.total -= o.remaining - new_quantity;
    o.remaining = new_quantity;
    emit_level(o.side, level, out);
    return;
  }
  unlink(slot, &out);
  o.price = new_price;
  o.remaining = new_quantity;
  o.arrival = ++arrivals_;
  execute(slot, out);
  run_triggers(out);
  check_not_crossed();
}

OrderBook::Slot OrderBook::allocate_order(const NewOrder& order) {
  const Slot slot = take_slot(orders_, free_orders_);
  Order& o = orders_[slot];
  o = Order{};
  o.id = order.id;
  o.account = order.account;
  o.side = order.side;
  o.type = order.type;
  o.tif = order.tif;
  o.price = order.price;
  o.stop_price = order.stop_price;
  o.remaining = order.quantity;
  o.self_trade = order.self_trade;
  o.post_only = order.post_only;
  o.arrival = ++arrivals_;
  ids_->insert(order.id, slot);
  ++live_orders_;
  return slot;
}

void OrderBook::release_order(Slot slot) {
  ids_->erase(orders_[slot].id);
  free_orders_.push_back(slot);
  --live_orders_;
}

// An arriving (or re-priced, or triggered) order: trade what crosses, then rest or cancel the rest.
void OrderBook::execute(Slot taker, std::vector<Event>& out) {
  match(taker, out);
  Order& o = orders_[taker];
  if (o.remaining == 0) {
    release_order(taker);
  } else if (o.tif == TimeInForce::gtc && o.type != OrderType::market) {
    rest(taker, out);
  } else {
    cancel_taker(taker, CancelReason::ioc_remainder, out);
    release_order(taker);
  }
}

bool OrderBook::crosses(Side taker_side, Price limit, Price resting) const {
  return taker_side == Side::buy ? resting <= limit : resting >= limit;
}

void OrderBook::match(Slot taker, std::vector<Event>& out) {
  auto& opposite_side = sides_[index(opposite(orders_[taker].side))];
  const bool any_price = trades_at_any_price(orders_[taker].type);
  bool stop_matching = false;
  while (!stop_matching && orders_[taker].remaining > 0 && !opposite_side.empty()) {
    const Slot level_slot = opposite_side.back().second;
    Level& level = levels_[level_slot];
    Order& t = orders_[taker];
    if (!any_price && !crosses(t.side, t.price, level.price)) break;
    const Quantity total_before = level.total;
    const std::uint32_t count_before = level.count;
    Slot current = level.head;
    while (current != none && t.remaining > 0) {
      Order& maker = orders_[current];
      const Slot next = maker.next;
      if (maker.account == t.account) {
        if (t.self_trade != SelfTrade::cancel_newest) {
          out.push_back(cancelled_event(maker, CancelReason::self_trade));
          unlink(current, nullptr);
          release_order(current);
        }
        if (t.self_trade != SelfTrade::cancel_oldest) {
          cancel_taker(taker, CancelReason::self_trade, out);
          stop_matching = true;
          break;
        }
        current = next;
        continue;
      }
      const Quantity traded = std::min(t.remaining, maker.remaining);
      t.remaining -= traded;
      maker.remaining -= traded;
      level.total -= traded;
      last_trade_price_ = level.price;
      Event fill;
      fill.kind = EventKind::fill;
      fill.order_id = t.id;
      fill.account = t.account;
      fill.side = t.side;
      fill.price = level.price;
      fill.quantity = traded;
      fill.remaining = t.remaining;
      fill.maker_order_id = maker.id;
      fill.maker_account = maker.account;
      fill.maker_remaining = maker.remaining;
      out.push_back(fill);
      if (maker.remaining == 0) {
        unlink(current, nullptr);
        release_order(current);
      }
      current = next;
    }
    // unlink(nullptr) leaves the level in place for us to report once and then drop.
    if (level.total != total_before || level.count != count_before) {
      emit_level(opposite(t.side), level, out);
    }
    if (level.count == 0) {
      opposite_side.pop_back();
      free_levels_.push_back(level_slot);
    }
  }
}

// How much of `needed` the taker would fill now, without changing anything.
Quantity OrderBook::fillable(const Order& taker, Quantity needed) const {
  const auto& opposite_side = sides_[index(opposite(taker.side))];
  const bool any_price = trades_at_any_price(taker.type);
  Quantity available = 0;
  for (auto it = opposite_side.rbegin(); it != opposite_side.rend(); ++it) {
    const Level& level = levels_[it->second];
    if (!any_price && !crosses(taker.side, taker.price, level.price)) break;
    for (Slot s = level.head; s != none; s = orders_[s].next) {
      const Order& maker = orders_[s];
      if (maker.account == taker.account) {
        if (taker.self_trade == SelfTrade::cancel_oldest) continue;
        return available;
      }
      available += maker.remaining;
      if (available >= needed) return available;
    }
  }
  return available;
}

OrderBook::Slot OrderBook::level_for(Side side, Price price) {
  auto& book_side = sides_[index(side)];
  const Price key = key_of(side, price);
  auto it = position(book_side, key);
  if (it != book_side.end() && it->first == key) return it->second;
  const Slot slot = take_slot(levels_, free_levels_);
  levels_[slot] = Level{};
  levels_[slot].price = price;
  book_side.insert(it, {key, slot});
  return slot;
}

void OrderBook::rest(Slot slot, std::vector<Event>& out) {
  const Slot level_slot = level_for(orders_[slot].side, orders_[slot].price);
  Order& o = orders_[slot];
  Level& level = levels_[level_slot];
  o.level = level_slot;
  o.prev = level.tail;
  o.next = none;
  if (level.tail != none) {
    orders_[level.tail].next = slot;
  } else {
    level.head = slot;
  }
  level.tail = slot;
  level.total += o.remaining;
  ++level.count;
  emit_level(o.side, level, out);
}

// Takes a resting order out of its level. With `out`, reports the level and drops it when empty;
// without, the caller (the matching loop) does both once per level.
void OrderBook::unlink(Slot slot, std::vector<Event>* out) {
  Order& o = orders_[slot];
  Level& level = levels_[o.level];
  if (o.prev != none) {
    orders_[o.prev].next = o.next;
  } else {
    level.head = o.next;
  }
  if (o.next != none) {
    orders_[o.next].prev = o.prev;
  } else {
    level.tail = o.prev;
  }
  level.total -= o.remaining;
  --level.count;
  const Slot level_slot = o.level;
  o.level = none;
  o.prev = o.next = none;
  if (out == nullptr) return;
  emit_level(o.side, level, *out);
  if (level.count == 0) {
    auto& book_side = sides_[index(o.side)];
    const Price key = key_of(o.side, level.price);
    auto it = position(book_side, key);
    MKT_INVARIANT(it != book_side.end() && it->second == level_slot, "level missing from side");
    book_side.erase(it);
    free_levels_.push_back(level_slot);
  }
}

void OrderBook::cancel_taker(Slot taker, CancelReason reason, std::vector<Event>& out) {
  Order& t = orders_[taker];
  out.push_back(cancelled_event(t, reason));
  t.remaining = 0;
}

void OrderBook::emit_level(Side side, const Level& level, std::vector<Event>& out) const {
  Event event;
  event.kind = EventKind::level;
  event.side = side;
  event.price = level.price;
  event.quantity = level.total;
  event.level_orders = level.count;
  out.push_back(event);
}

void OrderBook::add_stop(Slot slot) {
  Order& o = orders_[slot];
  o.pending = true;
  stops_[index(o.side)].emplace(std::pair{key_of(o.side, o.stop_price), o.arrival}, slot);
}

void OrderBook::remove_stop(const Order& order) {
  stops_[index(order.side)].erase({key_of(order.side, order.stop_price), order.arrival});
}

void OrderBook::run_triggers(std::vector<Event>& out) {
  while (last_trade_price_ != 0) {
    // Buy stops trigger at last >= stop: the smallest stop first. Sell stops at last <= stop:
    // keyed by minus the stop, so the smallest key (the highest stop) first.
    Slot slot = none;
    for (Side side : {Side::buy, Side::sell}) {
      auto& queue = stops_[index(side)];
      if (!queue.empty() && queue.begin()->first.first <= key_of(side, last_trade_price_)) {
        slot = queue.begin()->second;
        queue.erase(queue.begin());
        break;
      }
    }
    if (slot == none) return;
    Order& o = orders_[slot];
    o.pending = false;
    Event triggered;
    triggered.kind = EventKind::triggered;
    triggered.order_id = o.id;
    triggered.account = o.account;
    triggered.side = o.side;
    triggered.price = last_trade_price_;
    triggered.remaining = o.remaining;
    out.push_back(triggered);
    const bool market = o.type == OrderType::stop;
    const bool empty = sides_[index(opposite(o.side))].empty();
    if ((market && empty) ||
        (o.tif == TimeInForce::fok && fillable(o, o.remaining) < o.remaining)) {
      cancel_taker(slot, CancelReason::ioc_remainder, out);
      release_order(slot);
      continue;
    }
    execute(slot, out);
  }
}

void OrderBook::check_not_crossed() const {
  const auto& bids = sides_[0];
  const auto& asks = sides_[1];
  if (bids.empty() || asks.empty()) return;
  MKT_INVARIANT(levels_[bids.back().second].price < levels_[asks.back().second].price,
                "book crossed");
}

std::vector<LevelView> OrderBook::levels(Side side, std::size_t depth) const {
  const auto& book_side = sides_[index(side)];
  const std::size_t n = depth == 0 ? book_side.size() : std::min(depth, book_side.size());
  std::vector<LevelView> result;
  result.reserve(n);
  for (auto it = book_side.rbegin(); result.size() < n; ++it) {
    const Level& level = levels_[it->second];
    result.push_back({level.price, level.total, level.count});
  }
  return result;
}

bool OrderBook::best(Side side, LevelView& view) const {
  const auto& book_side = sides_[index(side)];
  if (book_side.empty()) return false;
  const Level& level = levels_[book_side.back().second];
  view = {level.price, level.total, level.count};
  return true;
}

OrderView OrderBook::view_of(const Order& o) const {
  return {o.id,    o.account,    o.side,      o.type,      o.tif,
          o.price, o.stop_price, o.remaining, o.post_only, o.pending};
}

bool OrderBook::find(OrderId id, OrderView& view) const {
  const Slot slot = ids_->find(id);
  if (slot == IdMap::absent) return false;
  view = view_of(orders_[slot]);
  return true;
}

std::vector<OrderView> OrderBook::resting(Side side) const {
  std::vector<OrderView> result;
  const auto& book_side = sides_[index(side)];
  for (auto it = book_side.rbegin(); it != book_side.rend(); ++it) {
    for (Slot s = levels_[it->second].head; s != none; s = orders_[s].next) {
      result.push_back(view_of(orders_[s]));
    }
  }
  return result;
}

}  // namespace mkt::matching
