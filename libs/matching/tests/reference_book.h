#pragma once
// A naive order book written straight from the rules in order_book.h, for the property tests.
// Every open order sits in one vector; each match step scans it for the best counterparty. It is
// slow on purpose: nothing in it is shared with the real book but the types, so agreement between
// the two means something. It produces no level events (the tests check those separately).

#include <algorithm>
#include <optional>
#include <vector>

#include "mkt/matching/order_book.h"

namespace mkt::matching::testing {

class ReferenceBook {
 public:
  explicit ReferenceBook(BookLimits limits = {}) : limits_(limits) {}

  void submit(const NewOrder& n, std::vector<Event>& out) {
    const bool has_limit = n.type == OrderType::limit || n.type == OrderType::stop_limit;
    const bool is_stop = n.type == OrderType::stop || n.type == OrderType::stop_limit;
    const bool any_price = n.type == OrderType::market || n.type == OrderType::stop;
    std::optional<RejectReason> reason;
    if (n.quantity <= 0 || n.quantity > limits_.quantity_max) {
      reason = RejectReason::invalid_quantity;
    } else if (has_limit && (n.price <= 0 || n.price > limits_.price_max)) {
      reason = RejectReason::invalid_price;
    } else if (is_stop && (n.stop_price <= 0 || n.stop_price > limits_.price_max)) {
      reason = RejectReason::invalid_price;
    } else if (any_price && n.tif == TimeInForce::gtc) {
      reason = RejectReason::invalid_order_type;
    } else if (n.post_only && (n.type != OrderType::limit || n.tif != TimeInForce::gtc)) {
      reason = RejectReason::invalid_order_type;
    } else if (find(n.id) != nullptr) {
      reason = RejectReason::duplicate_order_id;
    } else if (orders_.size() >= limits_.orders_max) {
      reason = RejectReason::book_full;
    } else if (!is_stop && n.type == OrderType::market && !any_resting(opposite(n.side))) {
      reason = RejectReason::no_liquidity;
    } else if (n.post_only && would_cross(n.side, n.price)) {
      reason = RejectReason::post_only_would_take;
    }
    Order o{n.id,         n.account,  n.side,      n.type,       n.tif,    n.price,
            n.stop_price, n.quantity, n.post_only, n.self_trade, ++clock_, is_stop};
    if (!reason && !is_stop && n.tif == TimeInForce::fok && !can_fill(o)) {
      reason = RejectReason::fok_unfillable;
    }
    if (reason) {
      out.push_back(reject(n.id, n.account, n.side, *reason));
      return;
    }
    Event accepted;
    accepted.kind = EventKind::accepted;
    accepted.order_id = n.id;
    accepted.account = n.account;
    accepted.side = n.side;
    accepted.price = n.price;
    accepted.quantity = n.quantity;
    accepted.remaining = n.quantity;
    out.push_back(accepted);
    if (is_stop) {
      orders_.push_back(o);
    } else {
      arrive(o, out);
    }
    triggers(out);
  }

  void cancel(OrderId id, AccountId account, std::vector<Event>& out) {
    Order* o = find(id);
    if (o == nullptr)
      return out.push_back(reject(id, account, Side::buy, RejectReason::unknown_order));
    if (o->account != account) {
      return out.push_back(reject(id, account, o->side, RejectReason::not_owner));
    }
    out.push_back(cancelled(*o, CancelReason::requested));
    erase(id);
  }

  void modify(OrderId id, AccountId account, Price price, Quantity quantity,
              std::vector<Event>& out) {
    Order* o = find(id);
    if (o == nullptr)
      return out.push_back(reject(id, account, Side::buy, RejectReason::unknown_order));
    std::optional<RejectReason> reason;
    const bool has_limit = o->type == OrderType::limit || o->type == OrderType::stop_limit;
    if (o->account != account) {
      reason = RejectReason::not_owner;
    } else if (quantity <= 0 || quantity > limits_.quantity_max) {
      reason = RejectReason::invalid_quantity;
    } else if (!has_limit && price != o->price) {
      reason = RejectReason::invalid_price;
    } else if (has_limit && (price <= 0 || price > limits_.price_max)) {
      reason = RejectReason::invalid_price;
    } else if (o->post_only && would_cross(o->side, price)) {
      reason = RejectReason::post_only_would_take;
    }
    if (reason) return out.push_back(reject(id, account, o->side, *reason));
    const bool kept = price == o->price && quantity <= o->remaining;
    Event modified;
    modified.kind = EventKind::modified;
    modified.order_id = id;
    modified.account = o->account;
    modified.side = o->side;
    modified.price = price;
    modified.remaining = quantity;
    modified.kept_priority = kept;
    out.push_back(modified);
    o->price = price;
    o->remaining = quantity;
    if (kept) return;
    o->time = ++clock_;
    if (o->pending) return;
    Order moved = *o;
    erase(id);
    arrive(moved, out);
    triggers(out);
  }

  // Resting orders of a side in priority order.
  std::vector<OrderView> resting(Side side) const {
    std::vector<Order> list;
    for (const Order& o : orders_) {
      if (o.side == side && !o.pending) list.push_back(o);
    }
    std::sort(list.begin(), list.end(),
              [](const Order& a, const Order& b) { return better(a, b); });
    std::vector<OrderView> views;
    for (const Order& o : list) {
      views.push_back({o.id, o.account, o.side, o.type, o.tif, o.price, o.stop, o.remaining,
                       o.post_only, false});
    }
    return views;
  }

  std::size_t open_orders() const { return orders_.size(); }
  Price last_trade_price() const { return last_; }

 private:
  struct Order {
    OrderId id;
    AccountId account;
    Side side;
    OrderType type;
    TimeInForce tif;
    Price price;
    Price stop;
    Quantity remaining;
    bool post_only;
    SelfTrade stp;
    std::uint64_t time;
    bool pending;
  };

  static bool better(const Order& a, const Order& b) {
    if (a.price != b.price) return a.side == Side::buy ? a.price > b.price : a.price < b.price;
    return a.time < b.time;
  }

  static Event reject(OrderId id, AccountId account, Side side, RejectReason reason) {
    Event e;
    e.kind = EventKind::rejected;
    e.order_id = id;
    e.account = account;
    e.side = side;
    e.reject = reason;
    return e;
  }

  static Event cancelled(const Order& o, CancelReason reason) {
    Event e;
    e.kind = EventKind::cancelled;
    e.cancel = reason;
    e.order_id = o.id;
    e.account = o.account;
    e.side = o.side;
    e.price = o.price;
    e.quantity = o.remaining;
    return e;
  }

  Order* find(OrderId id) {
    for (Order& o : orders_) {
      if (o.id == id) return &o;
    }
    return nullptr;
  }
  void erase(OrderId id) {
    std::erase_if(orders_, [id](const Order& o) { return o.id == id; });
  }
  bool any_resting(Side side) const {
    return std::any_of(orders_.begin(), orders_.end(),
                       [side](const Order& o) { return o.side == side && !o.pending; });
  }
  static bool crosses(const Order& taker, Price resting) {
    if (taker.type == OrderType::market || taker.type == OrderType::stop) return true;
    return taker.side == Side::buy ? resting <= taker.price : resting >= taker.price;
  }
  bool would_cross(Side side, Price price) const {
    Order probe{};
    probe.side = side;
    probe.price = price;
    probe.type = OrderType::limit;
    return std::any_of(orders_.begin(), orders_.end(), [&](const Order& o) {
      return o.side == opposite(side) && !o.pending && crosses(probe, o.price);
    });
  }

  // The best resting counterparty of the taker that it crosses, or null.
  Order* best_for(const Order& taker) {
    Order* best = nullptr;
    for (Order& o : orders_) {
      if (o.side != opposite(taker.side) || o.pending || !crosses(taker, o.price)) continue;
      if (best == nullptr || better(o, *best)) best = &o;
    }
    return best;
  }

  bool can_fill(const Order& taker) {
    std::vector<Order> saved = orders_;
    Quantity available = 0;
    while (available < taker.remaining) {
      Order* maker = best_for(taker);
      if (maker == nullptr) break;
      if (maker->account == taker.account && taker.stp != SelfTrade::cancel_oldest) break;
      if (maker->account != taker.account) available += maker->remaining;
      erase(maker->id);
    }
    orders_ = saved;
    return available >= taker.remaining;
  }

  void arrive(Order t, std::vector<Event>& out) {
    while (t.remaining > 0) {
      Order* maker = best_for(t);
      if (maker == nullptr) break;
      if (maker->account == t.account) {
        if (t.stp != SelfTrade::cancel_newest) {
          out.push_back(cancelled(*maker, CancelReason::self_trade));
          erase(maker->id);
        }
        if (t.stp != SelfTrade::cancel_oldest) {
          out.push_back(cancelled(t, CancelReason::self_trade));
          return;
        }
        continue;
      }
      const Quantity q = std::min(t.remaining, maker->remaining);
      t.remaining -= q;
      maker->remaining -= q;
      last_ = maker->price;
      Event fill;
      fill.kind = EventKind::fill;
      fill.order_id = t.id;
      fill.account = t.account;
      fill.side = t.side;
      fill.price = maker->price;
      fill.quantity = q;
      fill.remaining = t.remaining;
      fill.maker_order_id = maker->id;
      fill.maker_account = maker->account;
      fill.maker_remaining = maker->remaining;
      out.push_back(fill);
      if (maker->remaining == 0) erase(maker->id);
    }
    if (t.remaining == 0) return;
    if (t.tif == TimeInForce::gtc && t.type != OrderType::market) {
      t.pending = false;
      orders_.push_back(t);
    } else {
      out.push_back(cancelled(t, CancelReason::ioc_remainder));
    }
  }

  void triggers(std::vector<Event>& out) {
    while (last_ != 0) {
      Order* next = nullptr;
      for (Side side : {Side::buy, Side::sell}) {
        for (Order& o : orders_) {
          if (!o.pending || o.side != side) continue;
          const bool hit = side == Side::buy ? last_ >= o.stop : last_ <= o.stop;
          if (!hit) continue;
          const bool first = next == nullptr ||
                             (side == Side::buy ? o.stop < next->stop : o.stop > next->stop) ||
                             (o.stop == next->stop && o.time < next->time);
          if (first) next = &o;
        }
        if (next != nullptr) break;
      }
      if (next == nullptr) return;
      Order t = *next;
      erase(t.id);
      t.pending = false;
      t.time = ++clock_;  // a triggered order queues from the moment it triggers
      Event e;
      e.kind = EventKind::triggered;
      e.order_id = t.id;
      e.account = t.account;
      e.side = t.side;
      e.price = last_;
      e.remaining = t.remaining;
      out.push_back(e);
      const bool unfillable = (t.type == OrderType::stop && !any_resting(opposite(t.side))) ||
                              (t.tif == TimeInForce::fok && !can_fill(t));
      if (unfillable) {
        out.push_back(cancelled(t, CancelReason::ioc_remainder));
        continue;
      }
      arrive(t, out);
    }
  }

  BookLimits limits_;
  std::vector<Order> orders_;
  std::uint64_t clock_ = 0;
  Price last_ = 0;
};

}  // namespace mkt::matching::testing
