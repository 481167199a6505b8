// The order book's rules on scripted books: each case builds a small book, sends one input and
// compares the exact events (as text, so a failure shows what happened).

#include "mkt/matching/order_book.h"

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <map>
#include <string>
#include <vector>

#include "level_replay.h"
#include "mkt/matching/text.h"

using namespace mkt::matching;

namespace {

struct Harness {
  OrderBook book;
  OrderId next_id = 1;

  explicit Harness(BookLimits limits = {}) : book(limits) {}

  // Sends an order; returns its events as text, level events included when `levels`.
  std::vector<std::string> send(NewOrder order, bool levels = false) {
    if (order.id == 0) order.id = next_id++;
    std::vector<Event> out;
    book.submit(order, out);
    return text(out, levels);
  }
  std::vector<std::string> cancel(OrderId id, AccountId account) {
    std::vector<Event> out;
    book.cancel(id, account, out);
    return text(out, false);
  }
  std::vector<std::string> modify(OrderId id, AccountId account, Price price, Quantity quantity,
                                  bool levels = false) {
    std::vector<Event> out;
    book.modify(id, account, price, quantity, out);
    return text(out, levels);
  }
  static std::vector<std::string> text(const std::vector<Event>& events, bool levels) {
    std::vector<std::string> lines;
    for (const Event& e : events) {
      if (levels || e.kind != EventKind::level) lines.push_back(to_string(e));
    }
    return lines;
  }
};

NewOrder limit(AccountId account, Side side, Price price, Quantity quantity,
               TimeInForce tif = TimeInForce::gtc) {
  NewOrder order;
  order.account = account;
  order.side = side;
  order.price = price;
  order.quantity = quantity;
  order.tif = tif;
  return order;
}

NewOrder market(AccountId account, Side side, Quantity quantity) {
  NewOrder order = limit(account, side, 0, quantity, TimeInForce::ioc);
  order.type = OrderType::market;
  return order;
}

NewOrder stop(AccountId account, Side side, Price stop_price, Quantity quantity,
              Price limit_price = 0) {
  NewOrder order = limit(account, side, limit_price, quantity,
                         limit_price == 0 ? TimeInForce::ioc : TimeInForce::gtc);
  order.type = limit_price == 0 ? OrderType::stop : OrderType::stop_limit;
  order.stop_price = stop_price;
  return order;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("price-time priority: better price first and earlier order first within a price") {
  Harness h;
  h.send(limit(1, Side::sell, 101, 5));  // #1
  h.send(limit(2, Side::sell, 100, 5));  // #2
  h.send(limit(3, Side::sell, 100, 5));  // #3
  CHECK(h.send(limit(4, Side::buy, 101, 12)) ==
        Lines{"accepted #4 acct 4 buy 12@101", "fill #4 buy 5@100 left 7 with #2 (acct 2) left 0",
              "fill #4 buy 5@100 left 2 with #3 (acct 3) left 0",
              "fill #4 buy 2@101 left 0 with #1 (acct 1) left 3"});
  CHECK(h.book.levels(Side::sell) == std::vector<LevelView>{{101, 3, 1}});
  CHECK(h.book.levels(Side::buy).empty());
  CHECK(h.book.last_trade_price() == 101);
}

TEST_CASE("a limit order trades up to its price and rests the rest") {
  Harness h;
  h.send(limit(1, Side::sell, 100, 3));
  h.send(limit(1, Side::sell, 102, 3));
  CHECK(h.send(limit(2, Side::buy, 101, 5), true) ==
        Lines{"accepted #3 acct 2 buy 5@101", "fill #3 buy 3@100 left 2 with #1 (acct 1) left 0",
              "level sell 100: 0 in 0", "level buy 101: 2 in 1"});
  LevelView bid;
  REQUIRE(h.book.best(Side::buy, bid));
  CHECK(bid == LevelView{101, 2, 1});
}

TEST_CASE("IOC cancels its rest and FOK fills in full or is rejected with nothing changed") {
  Harness h;
  h.send(limit(1, Side::sell, 100, 3));
  CHECK(h.send(limit(2, Side::buy, 100, 5, TimeInForce::ioc)) ==
        Lines{"accepted #2 acct 2 buy 5@100", "fill #2 buy 3@100 left 2 with #1 (acct 1) left 0",
              "cancelled #2 buy 2 (ioc_remainder)"});
  h.send(limit(1, Side::sell, 100, 3));  // #3
  CHECK(h.send(limit(2, Side::buy, 100, 4, TimeInForce::fok)) ==
        Lines{"rejected #4 acct 2 fok_unfillable"});
  CHECK(h.book.levels(Side::sell) == std::vector<LevelView>{{100, 3, 1}});
  CHECK(h.send(limit(2, Side::buy, 100, 3, TimeInForce::fok)) ==
        Lines{"accepted #5 acct 2 buy 3@100", "fill #5 buy 3@100 left 0 with #3 (acct 1) left 0"});
  CHECK(h.book.open_orders() == 0);
}

TEST_CASE("market orders sweep any price and are rejected on an empty side") {
  Harness h;
  CHECK(h.send(market(2, Side::buy, 1)) == Lines{"rejected #1 acct 2 no_liquidity"});
  h.send(limit(1, Side::sell, 100, 1));
  h.send(limit(1, Side::sell, 150, 1));
  CHECK(h.send(market(2, Side::buy, 3)) == Lines{"accepted #4 acct 2 buy 3@0",
                                                 "fill #4 buy 1@100 left 2 with #2 (acct 1) left 0",
                                                 "fill #4 buy 1@150 left 1 with #3 (acct 1) left 0",
                                                 "cancelled #4 buy 1 (ioc_remainder)"});
}

TEST_CASE("post-only rests or is rejected and its modification may not cross") {
  Harness h;
  h.send(limit(1, Side::sell, 100, 1));
  NewOrder maker = limit(2, Side::buy, 100, 1);
  maker.post_only = true;
  CHECK(h.send(maker) == Lines{"rejected #2 acct 2 post_only_would_take"});
  maker.price = 99;
  CHECK(h.send(maker) == Lines{"accepted #3 acct 2 buy 1@99"});
  CHECK(h.modify(3, 2, 100, 1) == Lines{"rejected #3 acct 2 post_only_would_take"});
  CHECK(h.book.levels(Side::buy) == std::vector<LevelView>{{99, 1, 1}});
  NewOrder ioc = maker;
  ioc.tif = TimeInForce::ioc;
  CHECK(h.send(ioc) == Lines{"rejected #4 acct 2 invalid_order_type"});
}

TEST_CASE("modify: a smaller quantity keeps priority, a new price or more quantity loses it") {
  Harness h;
  h.send(limit(1, Side::buy, 100, 5));  // #1
  h.send(limit(2, Side::buy, 100, 5));  // #2
  CHECK(h.modify(1, 1, 100, 3, true) ==
        Lines{"modified #1 3@100 kept priority", "level buy 100: 8 in 2"});
  CHECK(h.book.resting(Side::buy).front().id == 1);
  CHECK(h.modify(1, 1, 100, 4) == Lines{"modified #1 4@100 lost priority"});
  CHECK(h.book.resting(Side::buy).front().id == 2);
  CHECK(h.modify(2, 2, 99, 5) == Lines{"modified #2 5@99 lost priority"});
  CHECK(h.book.levels(Side::buy) == std::vector<LevelView>{{100, 4, 1}, {99, 5, 1}});
}

TEST_CASE("a modify whose new price crosses trades as an arriving order") {
  Harness h;
  h.send(limit(1, Side::sell, 101, 2));  // #1
  h.send(limit(2, Side::buy, 99, 5));    // #2
  CHECK(h.modify(2, 2, 101, 5) == Lines{"modified #2 5@101 lost priority",
                                        "fill #2 buy 2@101 left 3 with #1 (acct 1) left 0"});
  CHECK(h.book.levels(Side::buy) == std::vector<LevelView>{{101, 3, 1}});
}

TEST_CASE("only the owner cancels or modifies and unknown orders are rejected") {
  Harness h;
  h.send(limit(1, Side::buy, 100, 5));
  CHECK(h.cancel(1, 2) == Lines{"rejected #1 acct 2 not_owner"});
  CHECK(h.modify(1, 2, 100, 1) == Lines{"rejected #1 acct 2 not_owner"});
  CHECK(h.cancel(9, 1) == Lines{"rejected #9 acct 1 unknown_order"});
  CHECK(h.modify(1, 1, 100, 0) == Lines{"rejected #1 acct 1 invalid_quantity"});
  CHECK(h.modify(1, 1, -1, 1) == Lines{"rejected #1 acct 1 invalid_price"});
  CHECK(h.cancel(1, 1) == Lines{"cancelled #1 buy 5 (requested)"});
  CHECK(h.cancel(1, 1) == Lines{"rejected #1 acct 1 unknown_order"});
  CHECK(h.book.open_orders() == 0);
}

TEST_CASE("bad orders are rejected and change nothing") {
  Harness h({.orders_max = 2, .price_max = 1000, .quantity_max = 100});
  CHECK(h.send(limit(1, Side::buy, 100, 0)) == Lines{"rejected #1 acct 1 invalid_quantity"});
  CHECK(h.send(limit(1, Side::buy, 100, 101)) == Lines{"rejected #2 acct 1 invalid_quantity"});
  CHECK(h.send(limit(1, Side::buy, 0, 1)) == Lines{"rejected #3 acct 1 invalid_price"});
  CHECK(h.send(limit(1, Side::buy, 1001, 1)) == Lines{"rejected #4 acct 1 invalid_price"});
  NewOrder gtc_market = market(1, Side::buy, 1);
  gtc_market.tif = TimeInForce::gtc;
  CHECK(h.send(gtc_market) == Lines{"rejected #5 acct 1 invalid_order_type"});
  h.send(limit(1, Side::buy, 100, 1));  // #6
  NewOrder again = limit(1, Side::buy, 100, 1);
  again.id = 6;
  CHECK(h.send(again) == Lines{"rejected #6 acct 1 duplicate_order_id"});
  h.send(limit(1, Side::buy, 100, 1));  // #7
  CHECK(h.send(limit(1, Side::buy, 100, 1)) == Lines{"rejected #8 acct 1 book_full"});
  CHECK(h.book.levels(Side::buy) == std::vector<LevelView>{{100, 2, 2}});
}

TEST_CASE("self-trade prevention cancels the newest, the oldest or both") {
  SECTION("cancel newest keeps the resting order") {
    Harness h;
    h.send(limit(1, Side::sell, 100, 5));
    CHECK(h.send(limit(1, Side::buy, 100, 5)) ==
          Lines{"accepted #2 acct 1 buy 5@100", "cancelled #2 buy 5 (self_trade)"});
    CHECK(h.book.levels(Side::sell) == std::vector<LevelView>{{100, 5, 1}});
  }
  SECTION("cancel oldest removes the resting order and matches on") {
    Harness h;
    h.send(limit(1, Side::sell, 100, 5));
    h.send(limit(2, Side::sell, 100, 5));
    NewOrder buy = limit(1, Side::buy, 100, 3);
    buy.self_trade = SelfTrade::cancel_oldest;
    CHECK(h.send(buy) == Lines{"accepted #3 acct 1 buy 3@100", "cancelled #1 sell 5 (self_trade)",
                               "fill #3 buy 3@100 left 0 with #2 (acct 2) left 2"});
  }
  SECTION("cancel both") {
    Harness h;
    h.send(limit(2, Side::sell, 100, 1));
    h.send(limit(1, Side::sell, 100, 5));
    NewOrder buy = limit(1, Side::buy, 100, 3);
    buy.self_trade = SelfTrade::cancel_both;
    CHECK(h.send(buy) ==
          Lines{"accepted #3 acct 1 buy 3@100", "fill #3 buy 1@100 left 2 with #1 (acct 2) left 0",
                "cancelled #2 sell 5 (self_trade)", "cancelled #3 buy 2 (self_trade)"});
    CHECK(h.book.open_orders() == 0);
  }
}

TEST_CASE("stops wait for the last trade price, then trade, and may cascade") {
  Harness h;
  h.send(limit(1, Side::sell, 100, 1));        // #1
  h.send(limit(1, Side::sell, 101, 1));        // #2
  h.send(limit(1, Side::sell, 105, 5));        // #3
  CHECK(h.send(stop(2, Side::buy, 101, 1)) ==  // #4: market when last >= 101
        Lines{"accepted #4 acct 2 buy 1@0"});
  CHECK(h.send(stop(3, Side::buy, 100, 2, 104)) ==  // #5: limit 104 when last >= 100
        Lines{"accepted #5 acct 3 buy 2@104"});
  CHECK(h.send(limit(4, Side::buy, 100, 1)) ==
        Lines{"accepted #6 acct 4 buy 1@100", "fill #6 buy 1@100 left 0 with #1 (acct 1) left 0",
              "triggered #5 at last 100 open 2", "fill #5 buy 1@101 left 1 with #2 (acct 1) left 0",
              "triggered #4 at last 101 open 1",
              "fill #4 buy 1@105 left 0 with #3 (acct 1) left 4"});
  CHECK(h.book.levels(Side::buy) == std::vector<LevelView>{{104, 1, 1}});
  OrderView view;
  CHECK(h.book.find(5, view));
  CHECK_FALSE(view.pending_trigger);
}

TEST_CASE("a stop whose price the last trade already reached triggers on arrival") {
  Harness h;
  h.send(limit(1, Side::buy, 100, 2));
  h.send(limit(2, Side::sell, 100, 1));  // last trade 100
  CHECK(h.send(stop(3, Side::sell, 100, 1)) ==
        Lines{"accepted #3 acct 3 sell 1@0", "triggered #3 at last 100 open 1",
              "fill #3 sell 1@100 left 0 with #1 (acct 1) left 0"});
  CHECK(h.send(stop(3, Side::sell, 100, 1)) == Lines{"accepted #4 acct 3 sell 1@0",
                                                     "triggered #4 at last 100 open 1",
                                                     "cancelled #4 sell 1 (ioc_remainder)"});
}

TEST_CASE("pending stops can be cancelled and modified") {
  Harness h;
  h.send(stop(1, Side::buy, 110, 3, 111));
  OrderView view;
  REQUIRE(h.book.find(1, view));
  CHECK(view.pending_trigger);
  CHECK(h.modify(1, 1, 112, 2) == Lines{"modified #1 2@112 lost priority"});
  CHECK(h.cancel(1, 1) == Lines{"cancelled #1 buy 2 (requested)"});
  CHECK(h.book.open_orders() == 0);
}

TEST_CASE("level events rebuild the levels of both sides") {
  Harness h;
  std::vector<Event> out;
  OrderId id = 1;
  auto place = [&](NewOrder order) {
    order.id = id++;
    h.book.submit(order, out);
  };
  for (Price p = 90; p < 100; ++p) {
    place(limit(1, Side::buy, p, p - 80));
    place(limit(2, Side::sell, p + 20, 3));
  }
  place(limit(3, Side::sell, 95, 40));
  h.book.modify(2, 2, 111, 1, out);
  h.book.cancel(4, 2, out);
  testing::LevelReplay replay;
  for (const Event& e : out) replay.apply(e);
  CHECK(replay.levels(Side::buy) == h.book.levels(Side::buy));
  CHECK(replay.levels(Side::sell) == h.book.levels(Side::sell));
}
