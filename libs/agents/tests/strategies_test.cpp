// Each strategy on scripted books: what it orders, cancels and shares, and the numbers behind it.
#include "mkt/agents/strategies.h"

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>
#include <cmath>
#include <set>

#include "scripted.h"

using namespace mkt::agents;
using namespace mkt::agents::testing;

namespace {

template <class S, class P>
std::pair<std::unique_ptr<Trader>, S*> trader_with(P params, TraderConfig config = two_venues()) {
  auto strategy = std::make_unique<S>(std::move(params));
  S* raw = strategy.get();
  return {std::make_unique<Trader>(std::move(config), std::move(strategy)), raw};
}

}  // namespace

TEST_CASE("noise trader: random sides and sizes around the mid, old orders cancelled") {
  auto [trader, noise] = trader_with<NoiseTrader>(
      NoiseParams{.order_interval_ms = 100,
                  .quantity_lots_max = 5,
                  .price_range_ticks = 10,
                  .order_lifetime_ms = 1000},
      two_venues({.max_order_lots = 10, .max_position_lots = 10'000, .max_open_orders = 1000}));
  set_book(*trader, "ex-a", 9'990, 10'010);
  set_book(*trader, "ex-b", 9'990, 10'010);
  int buys = 0, sells = 0;
  std::set<std::string> venues;
  std::size_t cancelled = 0;
  for (int i = 0; i < 200; ++i) {
    const Outbox out = trader->decide(i * 10'000'000LL);  // 10 ms apart: none expires
    REQUIRE(out.orders.size() == 1);
    const OrderRequest& r = out.orders[0].request;
    CHECK(r.price_ticks >= 9'990);
    CHECK(r.price_ticks <= 10'010);
    CHECK(r.quantity_lots >= 1);
    CHECK(r.quantity_lots <= 5);
    (r.side == Side::buy ? buys : sells)++;
    venues.insert(r.venue);
    // An order lives 1 s: from the 101st decision on, each cancels the one 100 before.
    CHECK(out.cancels.size() == (i >= 100 ? 1u : 0u));
    cancelled += out.cancels.size();
    accept_all(*trader, out, i * 10'000'000LL);
  }
  CHECK(buys > 60);
  CHECK(sells > 60);
  CHECK(venues.size() == 2);
  // Later every order left is older than its lifetime.
  cancelled += trader->decide(3 * second_ns).cancels.size();
  CHECK(cancelled == 200);
}

TEST_CASE("value trader: its estimate converges on the fundamental and it trades towards it") {
  auto [trader, value] = trader_with<ValueTrader>(ValueParams{
      .order_interval_ms = 1000,
      .quantity_lots_max = 10,
      .sight = {.observation_noise_ticks = {}, .default_noise_ticks = 50, .volatility_ppm = 20'000},
      .mean_reversion = 0});
  // A market far below the value (about 10,000 ticks): it buys, up to its estimate.
  set_book(*trader, "ex-a", 9'000, 9'010);
  set_book(*trader, "ex-b", 9'000, 9'010);
  for (int i = 0; i < 100; ++i) {
    const Outbox out = trader->decide(i * second_ns);
    REQUIRE(out.orders.size() == 1);
    CHECK(out.orders[0].request.side == Side::buy);
    CHECK(out.orders[0].request.price_ticks > 9'010);
    // One order a symbol: the previous one is cancelled first.
    CHECK(out.cancels.size() == (i == 0 ? 0u : 1u));
    accept_all(*trader, out, i * second_ns);
  }
  // 100 observations of sd 50 average to within about 5 ticks of the value (the value itself
  // moves by about 0.2 ticks a second at 2% a day).
  const double estimate = value->estimate("ACME");
  View view(*trader, 100 * second_ns);
  const double truth = static_cast<double>(view.observe_value("ACME", 0));
  CHECK(std::abs(estimate - truth) < 20);
  // A market above it: it sells.
  set_book(*trader, "ex-a", 11'000, 11'010);
  set_book(*trader, "ex-b", 11'000, 11'010);
  const Outbox out = trader->decide(101 * second_ns);
  REQUIRE(out.orders.size() == 1);
  CHECK(out.orders[0].request.side == Side::sell);
  CHECK(out.orders[0].request.price_ticks < 11'000);
}

TEST_CASE("market maker: quotes skew against its inventory and stop at its limit") {
  MarketMaker maker({.spread_ticks = 4,
                     .quote_quantity_lots = 10,
                     .risk_aversion = 1.0,
                     .refresh_ms = 1000,
                     .position_limit_lots = 100});
  const auto flat = maker.quotes(10'000, 0, 1.0);
  CHECK(flat.bid == 9'997);  // floor(10,000 - 2.5)
  CHECK(flat.ask == 10'003);
  // Long 50 lots (5 quotes): r = 10,000 - 5 * 1 * 1 = 9,995, both quotes lower to sell them.
  const auto longq = maker.quotes(10'000, 50, 1.0);
  CHECK(longq.bid == 9'992);
  CHECK(longq.ask == 9'998);
  const auto shortq = maker.quotes(10'000, -50, 1.0);
  CHECK(shortq.bid == 10'002);
  CHECK(shortq.ask == 10'008);
  // A more volatile mid widens the spread.
  const auto wide = maker.quotes(10'000, 0, 40.0);
  CHECK(wide.ask - wide.bid > flat.ask - flat.bid);
  // However wild the moves, the skew stays within 4 spreads and the variance within (4 spreads)^2.
  const auto wild = maker.quotes(10'000, 90, 1e9);
  CHECK(wild.ask == 10'000 - 16 + 2 + 128);
  CHECK(wild.bid == 10'000 - 16 - 2 - 128);
  // At the limit the side that would grow the position is not quoted.
  CHECK(maker.quotes(10'000, 100, 1.0).bid == 0);
  CHECK(maker.quotes(10'000, 100, 1.0).ask != 0);
  CHECK(maker.quotes(10'000, -100, 1.0).ask == 0);
}

TEST_CASE("market maker: places post-only quotes, keeps good ones, replaces stale ones") {
  TraderConfig config = two_venues();
  config.venues.pop_back();  // one venue
  auto [trader, maker] = trader_with<MarketMaker>(MarketMakerParams{.spread_ticks = 4,
                                                                    .quote_quantity_lots = 10,
                                                                    .risk_aversion = 1.0,
                                                                    .refresh_ms = 1000,
                                                                    .position_limit_lots = 100},
                                                  config);
  set_book(*trader, "ex-a", 0, 0, 0, 10'000);  // an empty book: it quotes around the last trade
  const Outbox first = trader->decide(0);
  REQUIRE(first.orders.size() == 2);
  for (const auto& o : first.orders) {
    CHECK(o.request.post_only);
    CHECK(o.request.quantity_lots == 10);
  }
  CHECK(first.orders[0].request.side == Side::buy);
  CHECK(first.orders[0].request.price_ticks == 9'997);
  CHECK(first.orders[1].request.price_ticks == 10'003);
  accept_all(*trader, first, 0);
  // Its own quotes are the whole book now: it does not take them for the market's mid, so with
  // no trade yet it stays at the reference and keeps them.
  set_book(*trader, "ex-a", 9'997, 10'003, 10);
  const Outbox same = trader->decide(second_ns);
  CHECK(same.orders.empty());
  CHECK(same.cancels.empty());
  // Another trader's bid below its own does count.
  trader->book("ex-a", "ACME")->reset(2, {{9'997, 10, 1}, {9'990, 5, 1}}, {{10'003, 10, 1}}, 0);
  CHECK(View(*trader, 0).others_best("ex-a", "ACME", Side::buy) == 9'990);
  CHECK_FALSE(View(*trader, 0).others_best("ex-a", "ACME", Side::sell));
  // The bid is hit for 10 lots: long 10, it re-quotes lower, cancelling the ask.
  trader->on_fill(first.orders[0].id, 9'997, 10, 0, second_ns);
  set_book(*trader, "ex-a", 0, 10'003, 10, 9'997);
  const Outbox after = trader->decide(2 * second_ns);
  REQUIRE(after.cancels.size() == 1);
  CHECK(after.cancels[0].id == first.orders[1].id);
  REQUIRE(after.orders.size() == 2);
  CHECK(after.orders[1].request.price_ticks < 10'003);
}

TEST_CASE("momentum and mean reversion: what a window says") {
  const WindowParams params{.window = 5,
                            .threshold = 0.02,
                            .confidence_threshold = 0.7,
                            .quantity_lots = 10,
                            .sample_interval_ms = 1000,
                            .share_signals = true};
  const WindowTrader momentum(WindowTrader::Kind::momentum, params);
  // Up 3% in four steps, every step up: long, fully confident.
  auto r = momentum.read({10'000, 10'100, 10'200, 10'250, 10'300});
  CHECK(r.move == Catch::Approx(0.03));
  CHECK(r.confidence == 1.0);
  CHECK(r.target == 1);
  // Up 3% but only half the steps up: not confident enough, so it holds.
  r = momentum.read({10'000, 10'400, 10'200, 10'500, 10'300});
  CHECK(r.confidence == 0.5);
  CHECK(r.target == 2);
  // A move under half the threshold: flat.
  CHECK(momentum.read({10'000, 10'000, 10'050, 10'050, 10'050}).target == 0);
  CHECK(momentum.read({10'000, 9'900, 9'800, 9'750, 9'700}).target == -1);

  const WindowTrader reversion(WindowTrader::Kind::mean_reversion, params);
  // 4.7% above the window's mean (10,120): sell, confidence capped at 1.
  r = reversion.read({10'000, 10'000, 10'000, 10'000, 10'600});
  CHECK(r.target == -1);
  CHECK(r.confidence == 1.0);
  CHECK(reversion.read({10'000, 10'000, 10'000, 10'000, 9'500}).target == 1);
  // 2.4% above the mean (10,060): confidence 0.6 is under 0.7, so it holds.
  r = reversion.read({10'000, 10'000, 10'000, 10'000, 10'300});
  CHECK(r.move == Catch::Approx(240.0 / 10'060));
  CHECK(r.target == 2);
}

TEST_CASE("momentum: after a rising window it buys at the ask with IOC and shares a signal") {
  auto strategy = std::make_unique<WindowTrader>(WindowTrader::Kind::momentum,
                                                 WindowParams{.window = 4,
                                                              .threshold = 0.02,
                                                              .confidence_threshold = 0.7,
                                                              .quantity_lots = 7,
                                                              .sample_interval_ms = 1000,
                                                              .share_signals = true});
  Trader t(two_venues(), std::move(strategy));
  const std::int64_t prices[] = {10'000, 10'100, 10'200, 10'300};
  Outbox out;
  for (int i = 0; i < 4; ++i) {
    set_book(t, "ex-a", prices[i] - 5, prices[i] + 5, 100, prices[i]);
    out = t.decide(i * second_ns);
    if (i < 3) CHECK(out.orders.empty());
  }
  REQUIRE(out.orders.size() == 1);
  CHECK(out.orders[0].request.side == Side::buy);
  CHECK(out.orders[0].request.tif == Tif::ioc);
  CHECK(out.orders[0].request.price_ticks == 10'305);
  CHECK(out.orders[0].request.quantity_lots == 7);
  REQUIRE(out.signals.size() == 1);
  CHECK(out.signals[0].kind == SignalKind::buy);
  CHECK(out.signals[0].confidence_ppm == 1'000'000);
  // Filled: at its target, it orders nothing more while the trend holds.
  accept_all(t, out, 4 * second_ns);
  t.on_fill(out.orders[0].id, 10'305, 7, 0, 4 * second_ns);
  set_book(t, "ex-a", 10'395, 10'405, 100, 10'400);
  CHECK(t.decide(5 * second_ns).orders.empty());
}

TEST_CASE("arbitrage: both legs IOC when the gap beats fees, latency and the threshold") {
  auto [trader, arb] = trader_with<Arbitrageur>(ArbitrageParams{.min_profit = 0.001,
                                                                .max_holding_ms = 5000,
                                                                .quantity_lots = 20,
                                                                .fee_ticks = 2,
                                                                .volatility_ppm = 20'000,
                                                                .interval_ms = 100});
  // Hurdle at 10,000 ticks: fees 4 + profit 10 + the move over half a round trip.
  CHECK(arb->hurdle_ticks(10'000, 0) == Catch::Approx(14.0));
  CHECK(arb->hurdle_ticks(10'000, 200'000'000) > arb->hurdle_ticks(10'000, 2'000'000));
  // A gap of 10 ticks does not pay.
  set_book(*trader, "ex-a", 9'990, 10'000, 15);
  set_book(*trader, "ex-b", 10'010, 10'020, 50);
  CHECK(trader->decide(0).orders.empty());
  // A gap of 20 does: buy ex-a's ask, sell ex-b's bid, the smaller size.
  set_book(*trader, "ex-b", 10'020, 10'030, 50);
  const Outbox out = trader->decide(1);
  REQUIRE(out.orders.size() == 2);
  CHECK(out.orders[0].request.venue == "ex-a");
  CHECK(out.orders[0].request.side == Side::buy);
  CHECK(out.orders[0].request.price_ticks == 10'000);
  CHECK(out.orders[0].request.quantity_lots == 15);
  CHECK(out.orders[0].request.tif == Tif::ioc);
  CHECK(out.orders[1].request.venue == "ex-b");
  CHECK(out.orders[1].request.side == Side::sell);
  CHECK(out.orders[1].request.price_ticks == 10'020);
  CHECK(arb->fired() == 1);
  // While the legs are out it does not fire again.
  CHECK(trader->decide(2).orders.empty());

  // The buy leg fills, the sell leg is cancelled unfilled: long 15, it unwinds at the best bid.
  accept_all(*trader, out, 3);
  trader->on_fill(out.orders[0].id, 10'000, 15, 0, 4);
  trader->on_cancelled(out.orders[1].id);
  set_book(*trader, "ex-a", 9'990, 10'000, 15);
  set_book(*trader, "ex-b", 9'995, 10'030, 50);
  const Outbox unwind = trader->decide(5);
  REQUIRE(unwind.orders.size() == 1);
  CHECK(unwind.orders[0].request.venue == "ex-b");
  CHECK(unwind.orders[0].request.side == Side::sell);
  CHECK(unwind.orders[0].request.price_ticks == 9'995);
  CHECK(unwind.orders[0].request.quantity_lots == 15);
  // The IOC finds nothing; held past max_holding, it sells at market.
  accept_all(*trader, unwind, 6);
  trader->on_cancelled(unwind.orders[0].id);
  const Outbox overdue = trader->decide(6 * second_ns);
  REQUIRE(overdue.orders.size() == 1);
  CHECK(overdue.orders[0].request.price_ticks == 0);
  CHECK(arb->unwinds() == 2);
}

TEST_CASE("arbitrage: a slower link raises the hurdle enough to skip a thin edge") {
  auto [trader, arb] = trader_with<Arbitrageur>(ArbitrageParams{.min_profit = 0,
                                                                .max_holding_ms = 5000,
                                                                .quantity_lots = 20,
                                                                .fee_ticks = 0,
                                                                .volatility_ppm = 2'000'000,
                                                                .interval_ms = 100});
  // At 200% a day, the move expected over half a 10 s round trip at 10,000 ticks is about 152
  // ticks. A 1-tick edge is taken before any round trip is measured...
  set_book(*trader, "ex-a", 9'990, 10'000);
  set_book(*trader, "ex-b", 10'001, 10'010);
  const Outbox first = trader->decide(0);
  REQUIRE(first.orders.size() == 2);
  // ...the venues take 10 s to acknowledge (and nothing fills)...
  for (const auto& o : first.orders) {
    trader->sent(o.id, 0);
    trader->on_accepted(o.id, o.id, 10 * second_ns, nullptr);
    trader->on_cancelled(o.id);
  }
  CHECK(trader->round_trip_ns("ex-a") == 10 * second_ns);
  CHECK(arb->hurdle_ticks(10'000, 10 * second_ns) == Catch::Approx(152.1).epsilon(0.01));
  // ...and the same edge is no longer worth it.
  CHECK(trader->decide(11 * second_ns).orders.empty());
  CHECK(arb->fired() == 1);
}

namespace {

// An arm that buys one lot at its own price on every decision.
class Buyer final : public Strategy {
 public:
  Buyer(std::string name, std::int64_t price) : name_(std::move(name)), price_(price) {}
  std::string_view name() const override { return name_; }
  std::int64_t interval_ms() const override { return 100; }
  void decide(View& /*view*/, Decisions& out) override {
    out.orders.push_back({.venue = "ex-a",
                          .symbol = "ACME",
                          .side = Side::buy,
                          .price_ticks = price_,
                          .quantity_lots = 1,
                          .tif = Tif::gtc,
                          .post_only = false});
  }

 private:
  std::string name_;
  std::int64_t price_;
};

}  // namespace

TEST_CASE("bandit: UCB1 and EXP3 settle on the arm that pays more") {
  for (const auto algorithm : {Bandit::Algorithm::ucb1, Bandit::Algorithm::exp3}) {
    Bandit bandit(3, algorithm, algorithm == Bandit::Algorithm::ucb1 ? 1.41421356 : 0.1);
    Random random(5);
    const double pays[] = {0.2, 0.8, 0.4};
    for (int i = 0; i < 2'000; ++i) {
      const std::size_t arm = bandit.choose(random);
      bandit.reward(arm, random.chance(pays[arm]) ? 1 : 0);
    }
    INFO("plays " << bandit.plays(0) << " " << bandit.plays(1) << " " << bandit.plays(2));
    CHECK(bandit.plays(1) > 1'400);
    CHECK(bandit.plays(0) >= 1);  // every arm was tried
    CHECK(bandit.plays(2) >= 1);
    CHECK(bandit.mean(1) == Catch::Approx(0.8).margin(0.05));
  }
}

TEST_CASE("adaptive trader: episodes rewarded by profit, the earning strategy chosen most") {
  std::vector<std::unique_ptr<Strategy>> arms;
  arms.push_back(std::make_unique<Buyer>("dear", 10'100));  // pays 100 ticks over the mid
  arms.push_back(std::make_unique<Buyer>("cheap", 9'900));  // 100 under
  AdaptiveTrader* adaptive = nullptr;
  Trader trader(two_venues(), [&] {
    auto s = std::make_unique<AdaptiveTrader>(AdaptiveParams{.algorithm = Bandit::Algorithm::ucb1,
                                                             .exploration = 1.41421356,
                                                             .episode_ms = 1'000,
                                                             .reward_scale_cents = 100},
                                              std::move(arms));
    adaptive = s.get();
    return s;
  }());
  set_book(trader, "ex-a", 9'990, 10'010);  // mid 10,000: the mark
  CHECK(adaptive->interval_ms() == 100);
  std::size_t cancels = 0;
  for (int episode = 0; episode < 40; ++episode) {
    const std::int64_t start = episode * second_ns;
    for (int step = 0; step < 2; ++step) {
      const Outbox out = trader.decide(start + step * 100'000'000);
      cancels += out.cancels.size();
      for (const auto& order : out.orders) {
        trader.sent(order.id, start);
        trader.on_accepted(order.id, 1'000 + order.id, start, nullptr);
      }
      // The first order of each episode fills at its price; the second is left open.
      if (step == 0) {
        REQUIRE(out.orders.size() == 1);
        trader.on_fill(out.orders[0].id, out.orders[0].request.price_ticks, 1, 0, start);
      }
    }
  }
  // Each switch cancelled what the last episode left open.
  CHECK(cancels == 39);
  INFO("dear " << adaptive->bandit().plays(0) << ", cheap " << adaptive->bandit().plays(1));
  CHECK(adaptive->bandit().plays(1) > 3 * adaptive->bandit().plays(0));
}
