// The venue on scripted commands: accounts, positions and cash from fills, trade and market data
// numbering, the checks made before the book (symbol, account, client order id, risk limits), and
// that a rejected command changes nothing.

#include "mkt/exchange/venue.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::exchange;
using mkt::matching::EventKind;
using mkt::matching::OrderType;
using mkt::matching::Side;
using mkt::matching::TimeInForce;

namespace {

VenueConfig config() {
  VenueConfig c;
  c.exchange_id = "ex-1";
  c.symbols = {{"AAA", 10, 100}, {"BBB", 1, 50}};
  c.accounts = {{"alice", 1'000'000}, {"bob", 500'000}};
  c.risk = {.max_order_quantity_lots = 100, .max_position_lots = 150, .max_open_orders = 3};
  c.closed_orders_kept = 2;
  return c;
}

SubmitCommand order(AccountId account, Side side, Price price, Quantity quantity,
                    std::string client_id = "", SymbolIndex symbol = 0) {
  SubmitCommand c;
  c.account = account;
  c.client_order_id = std::move(client_id);
  c.symbol = symbol;
  c.order.side = side;
  c.order.price = price;
  c.order.quantity = quantity;
  c.now_ns = 1000;
  return c;
}

}  // namespace

TEST_CASE("two accounts cross: positions, cash, trade ids and market data sequence") {
  Venue venue(config());
  const Outcome sell = venue.submit(order(1, Side::sell, 101, 30, "s1"));
  REQUIRE_FALSE(sell.rejected);
  CHECK(sell.order_id == 1);
  CHECK(venue.md_seq(0) == 1);  // one level event
  const Outcome buy = venue.submit(order(0, Side::buy, 102, 20, "b1"));
  REQUIRE(buy.events.size() == 3);  // accepted, fill, level
  CHECK(buy.events[1].event.kind == EventKind::fill);
  CHECK(buy.events[1].trade_id == 1);
  CHECK(buy.events[1].md_seq == 2);
  CHECK(buy.events[2].md_seq == 3);
  CHECK(venue.account(0).holdings[0].position == 20);
  CHECK(venue.account(1).holdings[0].position == -20);
  CHECK(venue.account(0).cash == 1'000'000 - 101 * 20 * 10);
  CHECK(venue.account(1).cash == 500'000 + 101 * 20 * 10);
  CHECK(venue.order(2)->status == OrderInfo::Status::filled);
  CHECK(venue.order(1)->remaining == 10);
  CHECK(venue.order(1)->filled == 20);
  CHECK(venue.account(1).open_orders == 1);
  CHECK(venue.account(1).holdings[0].open_sell == 10);
  CHECK(venue.md_seq(1) == 0);  // the other symbol is untouched
  CHECK(venue.last_trade_id() == 1);
}

TEST_CASE("venue checks reject before the book and change nothing") {
  Venue venue(config());
  CHECK(venue.submit(order(0, Side::buy, 100, 1, "", 7)).rejected == VenueReject::unknown_symbol);
  CHECK(venue.submit(order(9, Side::buy, 100, 1)).rejected == VenueReject::unknown_account);
  CHECK(venue.submit(order(0, Side::buy, 100, 1, std::string(65, 'x'))).rejected ==
        VenueReject::client_order_id_too_long);
  REQUIRE_FALSE(venue.submit(order(0, Side::buy, 100, 1, "x")).rejected);
  CHECK(venue.submit(order(0, Side::buy, 100, 1, "x")).rejected ==
        VenueReject::duplicate_client_order_id);
  CHECK_FALSE(venue.submit(order(1, Side::buy, 100, 1, "x")).rejected);  // per account
  const Outcome big = venue.submit(order(0, Side::buy, 100, 101));
  CHECK(big.rejected == VenueReject::risk_max_order_size);
  CHECK(big.detail == "quantity 101 lots is above the limit of 100");
  CHECK(venue.last_order_id() == 2);
  CHECK(venue.md_seq(0) == 2);
}

TEST_CASE("an order the book rejects takes no id and its client id stays free") {
  Venue venue(config());
  SubmitCommand fok = order(0, Side::buy, 100, 5, "f");
  fok.order.tif = TimeInForce::fok;
  const Outcome killed = venue.submit(fok);
  CHECK_FALSE(killed.rejected);
  CHECK(killed.order_id == 0);
  REQUIRE(killed.events.size() == 1);
  CHECK(killed.events[0].event.kind == EventKind::rejected);
  CHECK_FALSE(changes_state(killed));
  CHECK(venue.last_order_id() == 0);
  const Outcome rests = venue.submit(order(0, Side::buy, 100, 5, "f"));
  CHECK(rests.order_id == 1);
  CHECK(changes_state(rests));
  CHECK_FALSE(changes_state(venue.cancel({1, 1, 0})));  // not the owner
}

TEST_CASE("risk: open orders and the position that open orders could reach") {
  Venue venue(config());
  REQUIRE_FALSE(venue.submit(order(0, Side::buy, 100, 100)).rejected);
  const Outcome over = venue.submit(order(0, Side::buy, 99, 51));
  CHECK(over.rejected == VenueReject::risk_max_position);
  CHECK(over.detail == "position could reach 151 lots long, above the limit of 150");
  REQUIRE_FALSE(venue.submit(order(0, Side::buy, 99, 50)).rejected);
  // Selling is measured against the position, not against open buys.
  REQUIRE_FALSE(venue.submit(order(0, Side::sell, 120, 100)).rejected);
  CHECK(venue.submit(order(0, Side::sell, 121, 1)).rejected == VenueReject::risk_max_open_orders);
  // A modify that adds quantity is checked too.
  ModifyCommand grow{0, 1, 100, 101, 2000};
  CHECK(venue.modify(grow).rejected == VenueReject::risk_max_order_size);
  grow.quantity = 99;
  CHECK_FALSE(venue.modify(grow).rejected);
  CHECK(venue.account(0).holdings[0].open_buy == 149);
}

TEST_CASE("cancel and modify: owner only, and finished orders are unknown") {
  Venue venue(config());
  venue.submit(order(0, Side::buy, 100, 10));
  const Outcome theft = venue.cancel({1, 1, 0});
  REQUIRE(theft.events.size() == 1);
  CHECK(theft.events[0].event.reject == mkt::matching::RejectReason::not_owner);
  CHECK(venue.modify({1, 1, 100, 5, 0}).events[0].event.reject ==
        mkt::matching::RejectReason::not_owner);
  CHECK(venue.cancel({0, 1, 0}).events[0].event.kind == EventKind::cancelled);
  CHECK(venue.order(1)->status == OrderInfo::Status::cancelled);
  CHECK(venue.cancel({0, 1, 0}).events[0].event.reject ==
        mkt::matching::RejectReason::unknown_order);
  CHECK(venue.cancel({0, 99, 0}).events[0].event.reject ==
        mkt::matching::RejectReason::unknown_order);
  CHECK(venue.account(0).open_orders == 0);
  CHECK(venue.account(0).holdings[0].open_buy == 0);
}

TEST_CASE("finished orders are forgotten after closed_orders_kept, with their client ids") {
  Venue venue(config());
  for (int i = 0; i < 3; ++i) {
    venue.submit(order(0, Side::buy, 100, 1, "c" + std::to_string(i)));
    venue.cancel({0, static_cast<OrderId>(i + 1), 0});
  }
  CHECK(venue.order(1) == nullptr);
  CHECK(venue.order(3) != nullptr);
  CHECK_FALSE(venue.submit(order(0, Side::buy, 100, 1, "c0")).rejected);
  CHECK(venue.submit(order(0, Side::buy, 100, 1, "c2")).rejected ==
        VenueReject::duplicate_client_order_id);
}

TEST_CASE("stop orders wait as pending and count as open") {
  Venue venue(config());
  SubmitCommand stop = order(0, Side::buy, 0, 5);
  stop.order.type = OrderType::stop;
  stop.order.tif = TimeInForce::ioc;
  stop.order.stop_price = 105;
  venue.submit(stop);
  CHECK(venue.order(1)->status == OrderInfo::Status::pending_trigger);
  CHECK(venue.open_orders(0).size() == 1);
}
