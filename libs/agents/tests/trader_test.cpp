// The trader: the order lifecycle as the venue answers, positions and cash from fills, and the
// risk limits that stop an order before it leaves.
#include "mkt/agents/trader.h"

#include <catch2/catch_test_macros.hpp>

#include "scripted.h"

using namespace mkt::agents;
using namespace mkt::agents::testing;

namespace {

// A strategy that asks for whatever the test puts in `next`.
class Scripted final : public Strategy {
 public:
  std::string_view name() const override { return "scripted"; }
  std::int64_t interval_ms() const override { return 1000; }
  void decide(View& /*view*/, Decisions& out) override { out = std::exchange(next, {}); }
  Decisions next;
};

OrderRequest buy(std::int64_t price, std::int64_t lots, const char* venue = "ex-a") {
  return {.venue = venue,
          .symbol = "ACME",
          .side = Side::buy,
          .price_ticks = price,
          .quantity_lots = lots,
          .tif = Tif::gtc,
          .post_only = false};
}

OrderRequest sell(std::int64_t price, std::int64_t lots, const char* venue = "ex-a") {
  OrderRequest r = buy(price, lots, venue);
  r.side = Side::sell;
  return r;
}

}  // namespace

TEST_CASE("trader: an order from decision to fill, with position, cash and pnl") {
  auto strategy = std::make_unique<Scripted>();
  Scripted& script = *strategy;
  Trader trader(two_venues(), std::move(strategy));
  script.next.orders = {buy(10'000, 10)};
  const Outbox out = trader.decide(0);
  REQUIRE(out.orders.size() == 1);
  const std::uint64_t id = out.orders[0].id;
  CHECK(trader.order(id)->status == OrderStatus::queued);
  CHECK(trader.client_order_id(id) == "agent-1-" + std::to_string(id));
  CHECK(trader.order_id_of(trader.client_order_id(id)) == id);
  CHECK_FALSE(trader.order_id_of("agent-10-1"));
  CHECK_FALSE(trader.order_id_of("agent-1-x"));
  CHECK_FALSE(trader.order_id_of("other-1"));
  // Another run of the same agent (a prefix with a start stamp) is not this one.
  TraderConfig restarted = two_venues();
  restarted.order_prefix = "agent-1.t5k2";
  Trader again(std::move(restarted), std::make_unique<Scripted>());
  CHECK(again.client_order_id(3) == "agent-1.t5k2-3");
  CHECK(again.order_id_of("agent-1.t5k2-3") == 3u);
  CHECK_FALSE(again.order_id_of(trader.client_order_id(id)));

  CHECK(trader.sent(id, 1'000'000));
  CHECK(trader.on_accepted(id, 77, 1'400'000, nullptr));
  CHECK(trader.order(id)->status == OrderStatus::open);
  CHECK(trader.round_trip_ns("ex-a") == 400'000);

  CHECK(trader.on_fill(id, 9'990, 4, 6, 2'000'000));
  CHECK(trader.position("ACME") == 4);
  CHECK(trader.cash_cents() == 1'000'000 - 4 * 9'990);
  CHECK(trader.order(id)->remaining_lots == 6);
  // Marked at the mid of the first ready book: 10,010, so 4 lots gained 20 ticks each.
  set_book(trader, "ex-a", 10'000, 10'020);
  CHECK(trader.mark_ticks("ACME") == 10'010);
  CHECK(trader.pnl_cents() == 4 * 20);
  CHECK(trader.on_fill(id, 9'990, 6, 0, 3'000'000));
  CHECK(trader.order(id) == nullptr);  // complete
  CHECK(trader.fills() == 2);
  CHECK(trader.traded_lots() == 10);
  // Events of orders it does not know change nothing.
  CHECK_FALSE(trader.on_fill(999, 1, 1, 0, 0));
  CHECK_FALSE(trader.on_cancelled(999));
  CHECK(trader.position("ACME") == 10);
}

TEST_CASE("trader: cancels before the order is out or acknowledged") {
  auto strategy = std::make_unique<Scripted>();
  Scripted& script = *strategy;
  Trader trader(two_venues(), std::move(strategy));
  script.next.orders = {buy(10'000, 1), buy(10'001, 1), buy(10'002, 1)};
  const Outbox out = trader.decide(0);
  REQUIRE(out.orders.size() == 3);
  const auto queued = out.orders[0].id, sent = out.orders[1].id, open = out.orders[2].id;
  trader.sent(sent, 1);
  trader.sent(open, 1);
  trader.on_accepted(open, 500, 2, nullptr);

  script.next.cancels = {queued, sent, open, open};
  const Outbox cancels = trader.decide(3);
  // Queued: dropped here, and never sent. Sent: cancelled on its ack. Open: cancelled now, once.
  CHECK_FALSE(trader.sent(queued, 4));
  REQUIRE(cancels.cancels.size() == 1);
  CHECK(cancels.cancels[0].exchange_id == 500);
  std::optional<OwnOrder> cancel_now;
  CHECK(trader.on_accepted(sent, 501, 5, &cancel_now));
  REQUIRE(cancel_now);
  CHECK(cancel_now->exchange_id == 501);
  // Asking again changes nothing.
  script.next.cancels = {open};
  CHECK(trader.decide(6).cancels.empty());
}

TEST_CASE("trader: risk limits refuse before anything is sent") {
  auto strategy = std::make_unique<Scripted>();
  Scripted& script = *strategy;
  Trader trader(two_venues({.max_order_lots = 50, .max_position_lots = 100, .max_open_orders = 3}),
                std::move(strategy));
  script.next.orders = {buy(10'000, 51),
                        buy(0, 0),
                        buy(-1, 1),
                        {.venue = "ex-z",
                         .symbol = "ACME",
                         .side = Side::buy,
                         .price_ticks = 1,
                         .quantity_lots = 1,
                         .tif = Tif::gtc,
                         .post_only = false}};
  CHECK(trader.decide(0).orders.empty());
  CHECK(trader.refused(RiskRefusal::order_size) == 1);
  CHECK(trader.refused(RiskRefusal::invalid_quantity) == 1);
  CHECK(trader.refused(RiskRefusal::invalid_price) == 1);
  CHECK(trader.refused(RiskRefusal::unknown_venue_or_symbol) == 1);

  // Open buys count towards the position: 50 + 50 fit, one more lot does not.
  script.next.orders = {buy(10'000, 50), buy(10'000, 50, "ex-b"), buy(10'000, 1)};
  const Outbox out = trader.decide(1);
  CHECK(out.orders.size() == 2);
  CHECK(trader.refused(RiskRefusal::position) == 1);
  // Three live orders at most.
  script.next.orders = {sell(10'100, 1), sell(10'100, 1)};
  CHECK(trader.decide(2).orders.size() == 1);
  CHECK(trader.refused(RiskRefusal::open_orders) == 1);

  // At the limit, an order that reduces the position is still allowed.
  accept_all(trader, out, 3);
  trader.on_fill(out.orders[0].id, 10'000, 50, 0, 4);
  trader.on_fill(out.orders[1].id, 10'000, 50, 0, 4);
  CHECK(trader.position("ACME") == 100);
  script.next.orders = {buy(10'000, 1)};
  CHECK(trader.decide(5).orders.empty());
  script.next.orders = {sell(10'000, 40)};
  CHECK(trader.decide(6).orders.size() == 1);
}

TEST_CASE("trader: a lost session forgets what it had sent there, and counts the unanswered") {
  auto strategy = std::make_unique<Scripted>();
  Scripted& script = *strategy;
  Trader trader(two_venues(), std::move(strategy));
  script.next.orders = {buy(10'000, 1), buy(10'000, 1, "ex-b"), buy(10'000, 1), buy(10'000, 1)};
  const Outbox out = trader.decide(0);
  trader.sent(out.orders[0].id, 1);
  trader.sent(out.orders[1].id, 1);
  trader.sent(out.orders[3].id, 1);
  trader.on_accepted(out.orders[3].id, 77, 2, nullptr);  // answered: resting, not indeterminate
  CHECK(trader.venue_lost("ex-a") == 1);
  CHECK(trader.order(out.orders[0].id) == nullptr);
  CHECK(trader.order(out.orders[3].id) == nullptr);
  CHECK(trader.order(out.orders[1].id) != nullptr);  // another venue
  CHECK(trader.order(out.orders[2].id) != nullptr);  // still queued: it goes out later
}
