// The order book against the naive reference book (reference_book.h) on random order flows.
//
// RapidCheck generates flows of submits (every type and time in force, post-only, stops, three
// self-trade modes), cancels and modifies over a narrow price band and three accounts, so orders
// cross, self-trade and trigger often. After every input both books must have emitted the same
// events (level events aside), and the book must be uncrossed. At the end: the same resting orders
// in the same priority order, quantity conserved per order (accepted = filled + cancelled + open,
// following modifications), and the level events rebuild the book's levels. A long seeded run
// follows the same checks at a larger scale. RC_PARAMS="seed=S" replays a RapidCheck failure.

#include "mkt/testing/property.h"

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <map>
#include <random>
#include <sstream>
#include <vector>

#include "level_replay.h"
#include "mkt/matching/order_book.h"
#include "mkt/matching/text.h"
#include "reference_book.h"

using namespace mkt::matching;

namespace {

struct Op {
  int kind = 0;  // 0-11 submit of various types, 12-14 cancel, 15-17 modify
  AccountId account = 0;
  bool buy = true;
  Price price = 100;
  Price stop_price = 100;
  Quantity quantity = 1;
  int self_trade = 0;
  int tif = 0;
  std::size_t target = 0;  // which earlier order a cancel or modify names
  int modify_mode = 0;     // 0: as generated; 1-3: same price with less, equal or more quantity
};

// For RapidCheck's counterexamples.
[[maybe_unused]] void showValue(const Op& op, std::ostream& os) {
  os << "{kind " << op.kind << " acct " << op.account << (op.buy ? " buy " : " sell ")
     << op.quantity << "@" << op.price << " stop " << op.stop_price << " stp " << op.self_trade
     << " tif " << op.tif << " target " << op.target << " mode " << op.modify_mode << "}";
}

NewOrder order_of(const Op& op, OrderId id) {
  NewOrder n;
  n.id = id;
  n.account = op.account;
  n.side = op.buy ? Side::buy : Side::sell;
  n.price = op.price;
  n.stop_price = op.stop_price;
  n.quantity = op.quantity;
  n.self_trade = static_cast<SelfTrade>(op.self_trade);
  n.tif = static_cast<TimeInForce>(op.tif);
  if (op.kind <= 5) {
    n.tif = TimeInForce::gtc;
  } else if (op.kind == 6) {
    n.tif = TimeInForce::ioc;
  } else if (op.kind == 7) {
    n.tif = TimeInForce::fok;
  } else if (op.kind == 8) {
    n.type = OrderType::market;
    n.tif = op.tif == 2 ? TimeInForce::fok : TimeInForce::ioc;
  } else if (op.kind == 9) {
    n.post_only = true;
    n.tif = TimeInForce::gtc;
  } else if (op.kind == 10) {
    n.type = OrderType::stop;
    n.tif = TimeInForce::ioc;
  } else {
    n.type = OrderType::stop_limit;
  }
  return n;
}

// Follows each order's open quantity from the events alone.
struct Conservation {
  std::map<OrderId, Quantity> open;
  void apply(const Event& e) {
    switch (e.kind) {
      case EventKind::accepted:
        open[e.order_id] = e.quantity;
        break;
      case EventKind::fill:
        open[e.order_id] -= e.quantity;
        open[e.maker_order_id] -= e.quantity;
        break;
      case EventKind::cancelled:
        open[e.order_id] -= e.quantity;
        break;
      case EventKind::modified:
        open[e.order_id] = e.remaining;
        break;
      default:
        break;
    }
  }
};

std::string describe(const std::vector<Event>& events) {
  std::ostringstream text;
  for (const Event& e : events) text << "  " << to_string(e) << "\n";
  return text.str();
}

std::string describe(const std::vector<OrderView>& orders) {
  std::ostringstream text;
  for (const OrderView& o : orders) {
    text << "  #" << o.id << " acct " << o.account << " " << to_string(o.side) << " " << o.remaining
         << "@" << o.price << (o.pending_trigger ? " pending" : "") << "\n";
  }
  return text.str();
}

// Runs the flow on both books. Returns an empty string, or what went wrong.
std::string run_flow(const std::vector<Op>& ops, BookLimits limits = {.orders_max = 64}) {
  OrderBook book(limits);
  testing::ReferenceBook reference(limits);
  Conservation conservation;
  testing::LevelReplay levels;
  std::vector<OrderId> issued;
  std::vector<Event> got;
  std::vector<Event> want;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    got.clear();
    want.clear();
    if (op.kind <= 11) {
      const OrderId id = i + 1;
      issued.push_back(id);
      book.submit(order_of(op, id), got);
      reference.submit(order_of(op, id), want);
    } else {
      // Sometimes an id that was never issued.
      const OrderId id =
          issued.empty() || op.target % 7 == 6 ? 1'000'000 + i : issued[op.target % issued.size()];
      if (op.kind <= 14) {
        book.cancel(id, op.account, got);
        reference.cancel(id, op.account, want);
      } else {
        // The edges of the priority rule: the same price with less, equal or more quantity.
        Price price = op.price;
        Quantity quantity = op.quantity;
        OrderView current;
        if (op.modify_mode != 0 && book.find(id, current)) {
          price = current.price;
          quantity = std::max<Quantity>(1, current.remaining + op.modify_mode - 2);
        }
        book.modify(id, op.account, price, quantity, got);
        reference.modify(id, op.account, price, quantity, want);
      }
    }
    std::vector<Event> trading;
    for (const Event& e : got) {
      conservation.apply(e);
      levels.apply(e);
      if (e.kind != EventKind::level) trading.push_back(e);
    }
    if (trading != want) {
      return "input " + std::to_string(i) + " differs\nbook:\n" + describe(trading) +
             "reference:\n" + describe(want);
    }
    LevelView bid, ask;
    if (book.best(Side::buy, bid) && book.best(Side::sell, ask) && bid.price >= ask.price) {
      return "crossed after input " + std::to_string(i);
    }
  }
  for (Side side : {Side::buy, Side::sell}) {
    if (book.resting(side) != reference.resting(side)) {
      return "resting orders differ\nbook:\n" + describe(book.resting(side)) + "reference:\n" +
             describe(reference.resting(side));
    }
    if (levels.levels(side) != book.levels(side)) return "level events do not rebuild levels";
  }
  if (book.open_orders() != reference.open_orders()) return "open order counts differ";
  for (const auto& [id, open] : conservation.open) {
    OrderView view;
    const bool found = book.find(id, view);
    if (open < 0) return "order " + std::to_string(id) + " overfilled";
    if (found != (open > 0) || (found && view.remaining != open)) {
      return "order " + std::to_string(id) + " quantity not conserved";
    }
  }
  return {};
}

rc::Gen<Op> gen_op() {
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::inRange(0, 18)),
                            rc::gen::set(&Op::account, rc::gen::inRange<AccountId>(0, 3)),
                            rc::gen::set(&Op::buy, rc::gen::arbitrary<bool>()),
                            rc::gen::set(&Op::price, rc::gen::inRange<Price>(95, 106)),
                            rc::gen::set(&Op::stop_price, rc::gen::inRange<Price>(95, 106)),
                            rc::gen::set(&Op::quantity, rc::gen::inRange<Quantity>(1, 9)),
                            rc::gen::set(&Op::self_trade, rc::gen::inRange(0, 3)),
                            rc::gen::set(&Op::tif, rc::gen::inRange(0, 3)),
                            rc::gen::set(&Op::target, rc::gen::inRange<std::size_t>(0, 1000)),
                            rc::gen::set(&Op::modify_mode, rc::gen::inRange(0, 4)));
}

}  // namespace

TEST_CASE("the book agrees with the reference book on random flows") {
  mkt::testing::property("same events, same book, conserved, uncrossed", 3000, [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
    const std::string problem = run_flow(ops);
    RC_ASSERT(problem == std::string{});
  });
}

TEST_CASE("the book agrees with the reference book on long seeded flows") {
  // Larger flows than RapidCheck's, with more room in the book; a failure names its seed.
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    auto pick = [&](int lo, int hi) {
      return static_cast<int>(std::uniform_int_distribution<int>(lo, hi)(rng));
    };
    std::vector<Op> ops(2000);
    for (Op& op : ops) {
      op.kind = pick(0, 17);
      op.account = static_cast<AccountId>(pick(0, 3));
      op.buy = pick(0, 1) == 1;
      op.price = pick(90, 110);
      op.stop_price = pick(90, 110);
      op.quantity = pick(1, 20);
      op.self_trade = pick(0, 2);
      op.tif = pick(0, 2);
      op.target = static_cast<std::size_t>(pick(0, 100000));
      op.modify_mode = pick(0, 3);
    }
    INFO("seed " << seed);
    CHECK(run_flow(ops, {.orders_max = 500}) == "");
  }
}
