// Coordinated trading: the two-phase protocol from both sides (commit, refusal, a silent
// partner, the group limit), and the coalition member's decision to propose.
#include "mkt/agents/coordination.h"

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "mkt/agents/strategies.h"
#include "scripted.h"

using namespace mkt::agents;
using namespace mkt::agents::testing;

namespace {

constexpr std::int64_t ms = 1'000'000;

const CoordinatedTrade buy_trade{.venue = "ex-a",
                                 .symbol = "ACME",
                                 .side = Side::buy,
                                 .limit_price_ticks = 9'950,
                                 .quantity_lots = 5};

struct Coalition {
  Coordination a{"a", {"a", "b", "c"}, {.group_max = 4, .timeout_ms = 500}, 1};
  Coordination b{"b", {"a", "b", "c"}, {.group_max = 4, .timeout_ms = 500}, 1};
  Coordination c{"c", {"a", "b", "c"}, {.group_max = 4, .timeout_ms = 500}, 1};
};

}  // namespace

TEST_CASE("coordination: every partner accepts and each places its own leg") {
  Coalition co;
  const std::int64_t t0 = 1'000 * ms;
  CHECK(co.a.partners() == std::vector<std::string>{"b", "c"});
  const auto proposal = co.a.propose(buy_trade, t0);
  REQUIRE(proposal);
  CHECK(proposal->id == "a/1");
  CHECK(proposal->deadline_ns == t0 + 500 * ms);
  REQUIRE(proposal->legs.size() == 3);
  CHECK(proposal->legs[0].agent == "a");
  CHECK(proposal->legs[2].limit_price_ticks == 9'950);
  CHECK(co.a.busy());
  CHECK_FALSE(co.a.propose(buy_trade, t0));  // one at a time

  const auto vote_b = co.b.on_propose(*proposal, t0 + 10 * ms, "");
  CHECK(vote_b.accept);
  CHECK(co.b.busy());
  CHECK(co.a.on_vote("a/1", "b", true, t0 + 20 * ms).outcome == Coordination::Outcome::pending);
  CHECK(co.a.on_vote("a/1", "b", true, t0 + 21 * ms).outcome ==
        Coordination::Outcome::pending);  // said twice: still one
  CHECK(co.c.on_propose(*proposal, t0 + 10 * ms, "").accept);
  const auto done = co.a.on_vote("a/1", "c", true, t0 + 30 * ms);
  CHECK(done.outcome == Coordination::Outcome::commit);
  CHECK(done.proposal.id == "a/1");
  CHECK(done.tell == std::vector<std::string>{"b", "c"});
  CHECK_FALSE(co.a.busy());

  const auto leg = co.b.on_commit("a/1", t0 + 40 * ms);
  REQUIRE(leg);
  CHECK(leg->agent == "b");
  CHECK(leg->quantity_lots == 5);
  CHECK_FALSE(co.b.busy());
  CHECK_FALSE(co.b.on_commit("a/1", t0 + 41 * ms));  // once
  REQUIRE(co.c.on_commit("a/1", t0 + 40 * ms));
  CHECK(co.a.counts().committed == 1u);
  CHECK(co.b.counts().joined_committed == 1u);
}

TEST_CASE("coordination: one refusal aborts and those that accepted are told") {
  Coalition co;
  const std::int64_t t0 = 1'000 * ms;
  // c is busy with a proposal of its own.
  const auto own_c = co.c.propose(buy_trade, t0);
  REQUIRE(own_c);
  const auto proposal = co.a.propose(buy_trade, t0 + ms);
  REQUIRE(proposal);
  CHECK(co.b.on_propose(*proposal, t0 + 2 * ms, "").accept);
  CHECK(co.a.on_vote("a/1", "b", true, t0 + 3 * ms).outcome == Coordination::Outcome::pending);
  const auto vote_c = co.c.on_propose(*proposal, t0 + 2 * ms, "");
  CHECK_FALSE(vote_c.accept);
  CHECK(vote_c.reason == "busy with proposal c/1");
  const auto done = co.a.on_vote("a/1", "c", false, t0 + 4 * ms);
  CHECK(done.outcome == Coordination::Outcome::abort);
  CHECK(done.tell == std::vector<std::string>{"b"});
  CHECK(co.b.on_abort("a/1"));
  CHECK_FALSE(co.b.busy());
  CHECK_FALSE(co.b.on_commit("a/1", t0 + 5 * ms));  // nothing to place after an abort
  // The coordinator waits one to two timeouts before proposing again.
  CHECK_FALSE(co.a.propose(buy_trade, t0 + 400 * ms));
  CHECK(co.a.propose(buy_trade, t0 + 1'100 * ms));
  CHECK(co.a.counts().aborted == 1u);

  // A partner whose own leg its risk limits refuse says so.
  Coordination d{"d", {"a", "d"}, {}, 1};
  const auto refused = d.on_propose(*co.a.propose(buy_trade, t0 + 5'000 * ms).or_else([&] {
    return std::optional<Proposal>(*proposal);
  }),
                                    t0 + 2 * ms, "position");
  CHECK_FALSE(refused.accept);
}

TEST_CASE("coordination: a silent partner times the proposal out and nobody trades") {
  Coalition co;
  const std::int64_t t0 = 1'000 * ms;
  const auto proposal = co.a.propose(buy_trade, t0);
  REQUIRE(proposal);
  CHECK(co.b.on_propose(*proposal, t0 + ms, "").accept);
  CHECK(co.a.on_vote("a/1", "b", true, t0 + 2 * ms).outcome == Coordination::Outcome::pending);
  // c is partitioned away: no answer.
  CHECK_FALSE(co.a.expire(t0 + 500 * ms));
  const auto expired = co.a.expire(t0 + 501 * ms);
  REQUIRE(expired);
  CHECK(expired->outcome == Coordination::Outcome::abort);
  CHECK(expired->tell == std::vector<std::string>{"b"});
  CHECK(co.a.counts().timed_out == 1u);
  // A late acceptance changes nothing.
  CHECK(co.a.on_vote("a/1", "c", true, t0 + 600 * ms).outcome == Coordination::Outcome::pending);

  // b never hears the abort (lost): it gives up a timeout after the deadline, by itself.
  CHECK_FALSE(co.b.expire(t0 + 1'000 * ms));
  CHECK(co.b.busy());
  co.b.expire(t0 + 1'001 * ms);
  CHECK_FALSE(co.b.busy());
  CHECK(co.b.counts().joined_aborted == 1u);
  // A commit arriving after that is refused (nothing to place).
  CHECK_FALSE(co.b.on_commit("a/1", t0 + 1'100 * ms));
}

TEST_CASE("coordination: the group size is limited") {
  Coordination a{"a", {"a", "b", "c", "d", "e"}, {.group_max = 3, .timeout_ms = 500}, 1};
  CHECK(a.partners() == std::vector<std::string>{"b", "c"});
  const auto proposal = a.propose(buy_trade, 1'000 * ms);
  REQUIRE(proposal);
  CHECK(proposal->legs.size() == 3);
  Proposal big = *proposal;
  big.legs.push_back(big.legs.back());
  big.legs.back().agent = "z";
  Coordination b{"b", {"a", "b"}, {.group_max = 3, .timeout_ms = 500}, 1};
  const auto vote = b.on_propose(big, 1'000 * ms, "");
  CHECK_FALSE(vote.accept);
  CHECK(vote.reason == "a group of 4 (at most 3)");
  Proposal not_mine = *proposal;
  not_mine.legs.resize(1);
  CHECK(b.on_propose(not_mine, 1'000 * ms, "").reason == "no leg for b");
  CHECK(b.on_propose(*proposal, 1'500 * ms, "").reason == "past its deadline");
  // Alone, there is nobody to propose to.
  Coordination alone{"a", {"a"}, {}, 1};
  CHECK_FALSE(alone.propose(buy_trade, 0));
}

TEST_CASE("coordinated trader: proposes when the value is surely beyond the touch") {
  CoordinatedParams params{
      .interval_ms = 500,
      .confidence_threshold = 0.8,
      .quantity_lots = 5,
      .sight = {.observation_noise_ticks = {}, .default_noise_ticks = 5, .volatility_ppm = 20'000},
      .coordination = {}};
  Trader trader(two_venues(), std::make_unique<CoordinatedTrader>(params));
  // The value is about 10,000 ticks (the reference): asks at 9,900 are a bargain.
  set_book(trader, "ex-a", 9'890, 9'900);
  set_book(trader, "ex-b", 9'890, 9'900);
  Outbox out = trader.decide(second_ns);
  REQUIRE(out.coordinated);
  CHECK(out.coordinated->side == Side::buy);
  CHECK(out.coordinated->limit_price_ticks == 9'900);
  CHECK(out.coordinated->quantity_lots == 5);
  CHECK(out.orders.empty());  // it does not trade alone
  // Bids at 10,100 are a gift to sell into.
  set_book(trader, "ex-a", 10'100, 10'110);
  set_book(trader, "ex-b", 10'100, 10'110);
  out = trader.decide(2 * second_ns);
  REQUIRE(out.coordinated);
  CHECK(out.coordinated->side == Side::sell);
  CHECK(out.coordinated->limit_price_ticks == 10'100);
  // A market around the value: not sure enough either way.
  set_book(trader, "ex-a", 9'990, 10'010);
  set_book(trader, "ex-b", 9'990, 10'010);
  CHECK_FALSE(trader.decide(3 * second_ns).coordinated);

  const ValueEstimate::Belief belief{.value = 10'000, .variance = 100};
  CHECK(CoordinatedTrader::confidence(belief, 10'000, Side::buy) == Catch::Approx(0.5));
  CHECK(CoordinatedTrader::confidence(belief, 9'990, Side::buy) ==
        Catch::Approx(0.8413).margin(1e-3));
  CHECK(CoordinatedTrader::confidence(belief, 9'990, Side::sell) ==
        Catch::Approx(0.1587).margin(1e-3));
}
