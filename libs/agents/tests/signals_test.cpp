// Peer signals: admission once (by id), hop budgets, decay with age, and the reputation that a
// lying origin loses within a bounded number of signals.
#include "mkt/agents/signals.h"

#include <catch2/catch_approx.hpp>
#include <catch2/catch_test_macros.hpp>

#include "scripted.h"

using namespace mkt::agents;
using namespace mkt::agents::testing;

namespace {

constexpr std::int64_t ms = 1'000'000;

PeerSignal from(const std::string& origin, int sequence, SignalKind kind, std::int64_t value,
                std::int64_t at_ns) {
  return {.id = origin + "/" + std::to_string(sequence),
          .origin = origin,
          .symbol = "ACME",
          .kind = kind,
          .confidence_ppm = 800'000,
          .value_ticks = value,
          .origin_ts_ns = at_ns,
          .hop_count = 0,
          .ttl_hops = 3,
          .expires_at_ns = at_ns + 5'000 * ms,
          .venues = {}};
}

// A strategy that does nothing: the trader's signal handling is what is tested.
class Idle final : public Strategy {
 public:
  std::string_view name() const override { return "idle"; }
  std::int64_t interval_ms() const override { return 1000; }
  void decide(View& /*view*/, Decisions& /*out*/) override {}
};

}  // namespace

TEST_CASE("gossip: a signal is admitted once and echoes of one's own are dropped") {
  Gossip gossip("me", {});
  const std::int64_t t0 = 1'000 * ms;
  const PeerSignal own = gossip.originate({.symbol = "ACME",
                                           .kind = SignalKind::buy,
                                           .confidence_ppm = 2'000'000,
                                           .value_ticks = 0,
                                           .venues = {}},
                                          t0);
  CHECK(own.id == "me/1");
  CHECK(own.origin == "me");
  CHECK(own.confidence_ppm == 1'000'000u);  // held to 1
  CHECK(own.hop_count == 0u);
  CHECK(own.ttl_hops == GossipParams{}.ttl_hops);
  CHECK(own.expires_at_ns == t0 + GossipParams{}.lifetime_ms * ms);
  CHECK(gossip.admit(*Gossip::forwarded(own), t0 + ms) == Admission::own);

  const PeerSignal s = from("peer", 1, SignalKind::sell, 0, t0);
  CHECK(gossip.admit(s, t0 + ms) == Admission::fresh);
  CHECK(gossip.admit(s, t0 + 2 * ms) == Admission::duplicate);
  CHECK(gossip.admit(*Gossip::forwarded(s), t0 + 3 * ms) == Admission::duplicate);
  CHECK(gossip.live("ACME", t0 + 3 * ms).size() == 1);
  CHECK(gossip.live("OTHER", t0 + 3 * ms).empty());
}

TEST_CASE("gossip: hops are counted and spent and old signals expire") {
  Gossip gossip("me", {});
  const std::int64_t t0 = 1'000 * ms;
  PeerSignal s = from("peer", 1, SignalKind::buy, 0, t0);
  s.ttl_hops = 2;
  auto one = Gossip::forwarded(s);
  REQUIRE(one);
  CHECK(one->hop_count == 1u);
  auto two = Gossip::forwarded(*one);
  REQUIRE(two);
  CHECK(two->hop_count == 2u);
  CHECK_FALSE(Gossip::forwarded(*two));  // its budget is spent: not passed on

  PeerSignal over = from("peer", 2, SignalKind::buy, 0, t0);
  over.hop_count = 4;
  over.ttl_hops = 3;
  CHECK(gossip.admit(over, t0) == Admission::expired);
  CHECK(gossip.admit(from("peer", 3, SignalKind::buy, 0, t0), t0 + 5'000 * ms) ==
        Admission::expired);
  // An expiry beyond the receiver's lifetime is cut to it.
  PeerSignal eternal = from("peer", 4, SignalKind::buy, 0, t0);
  eternal.expires_at_ns = t0 + 1'000'000 * ms;
  CHECK(gossip.admit(eternal, t0 + GossipParams{}.lifetime_ms * ms) == Admission::expired);
  CHECK(gossip.admit(from("peer", 5, SignalKind::buy, 0, t0), t0 + 4'999 * ms) == Admission::fresh);
  CHECK(gossip.live("ACME", t0 + 5'000 * ms).empty());
}

TEST_CASE("gossip: malformed signals are refused") {
  Gossip gossip("me", {});
  const std::int64_t t0 = 1'000 * ms;
  PeerSignal s = from("peer", 1, SignalKind::buy, 0, t0);
  s.confidence_ppm = 1'000'001;
  CHECK(gossip.admit(s, t0) == Admission::malformed);
  s = from("peer", 1, SignalKind::buy, 0, t0);
  s.id = "someone-else/1";  // an id that is not the origin's could shadow its signals
  CHECK(gossip.admit(s, t0) == Admission::malformed);
  s = from("peer", 1, SignalKind::buy, 0, t0);
  s.symbol.clear();
  CHECK(gossip.admit(s, t0) == Admission::malformed);
  s = from("peer", 1, SignalKind::buy, 0, 0);
  CHECK(gossip.admit(s, t0) == Admission::malformed);
  CHECK(gossip.admit(from("peer", 1, SignalKind::buy, 0, t0), t0) == Admission::fresh);
}

TEST_CASE("gossip: weight is confidence halved with each half life of age") {
  Gossip gossip(
      "me", {.ttl_hops = 4, .lifetime_ms = 10'000, .half_life_ms = 1'000, .remembered_max = 100});
  const std::int64_t t0 = 1'000 * ms;
  const PeerSignal s = from("peer", 1, SignalKind::buy, 0, t0);
  CHECK(gossip.weight(s, t0) == Catch::Approx(0.8));
  CHECK(gossip.weight(s, t0 + 1'000 * ms) == Catch::Approx(0.4));
  CHECK(gossip.weight(s, t0 + 3'000 * ms) == Catch::Approx(0.1));
  CHECK(gossip.weight(s, t0 + 5'000 * ms) == 0);  // expired (the signal says 5 s)
}

TEST_CASE("gossip: the memory of ids is bounded") {
  Gossip gossip(
      "me", {.ttl_hops = 4, .lifetime_ms = 10'000, .half_life_ms = 1'000, .remembered_max = 10});
  const std::int64_t t0 = 1'000 * ms;
  for (int i = 1; i <= 50; ++i) {
    CHECK(gossip.admit(from("peer", i, SignalKind::buy, 0, t0), t0) == Admission::fresh);
  }
  CHECK(gossip.live("ACME", t0).size() <= 10);
  CHECK(gossip.admit(from("peer", 50, SignalKind::buy, 0, t0), t0) == Admission::duplicate);
}

TEST_CASE("reputation: a source always wrong is distrusted after four judged signals") {
  Reputation reputation({});
  const std::int64_t t0 = 1'000 * ms;
  CHECK(reputation.of("liar") == Catch::Approx(0.5));
  CHECK(reputation.value_tolerance_ticks(10'000) == 20);
  CHECK(reputation.value_tolerance_ticks(100) == 2);
  for (int i = 1; i <= 3; ++i) {
    reputation.judge_value(from("liar", i, SignalKind::fair_value, 10'500, t0), 10'000);
    reputation.judge_value(from("honest", i, SignalKind::fair_value, 10'015, t0), 10'000);
    CHECK(reputation.trusted("liar"));
  }
  reputation.judge_value(from("liar", 4, SignalKind::fair_value, 9'000, t0), 10'000);
  reputation.judge_value(from("honest", 4, SignalKind::fair_value, 9'985, t0), 10'000);
  CHECK(reputation.of("liar") == Catch::Approx(0.5 * 0.75 * 0.75 * 0.75 * 0.75));
  CHECK_FALSE(reputation.trusted("liar"));
  CHECK(reputation.of("honest") > 0.8);
  CHECK(reputation.records().at("liar").judged == 4u);
  CHECK(reputation.records().at("liar").wrong == 4u);
  CHECK(reputation.records().at("honest").wrong == 0u);
}

TEST_CASE("reputation: buy and sell calls are judged by the later move") {
  Reputation reputation({.prior = 0.5,
                         .learning_rate = 0.5,
                         .distrust_below = 0.2,
                         .judge_after_ms = 1'000,
                         .value_tolerance = 0.002,
                         .value_tolerance_ticks_min = 2});
  const std::int64_t t0 = 1'000 * ms;
  std::int64_t price = 10'000;
  const auto mark = [&](std::string_view) { return price; };
  reputation.expect_move(from("a", 1, SignalKind::buy, 0, t0), price, t0);
  reputation.expect_move(from("b", 1, SignalKind::sell, 0, t0), price, t0);
  price = 10'010;
  reputation.expect_move(from("c", 1, SignalKind::buy, 0, t0), price, t0 + 600 * ms);
  reputation.settle(t0 + 999 * ms, mark);
  CHECK(reputation.records().empty());  // not due yet
  reputation.settle(t0 + 1'000 * ms, mark);
  CHECK(reputation.of("a") == Catch::Approx(0.75));  // it rose: the buy was right
  CHECK(reputation.of("b") == Catch::Approx(0.25));  // the sell was wrong
  CHECK(reputation.of("c") == Catch::Approx(0.5));   // not due
  reputation.settle(t0 + 1'600 * ms, mark);
  CHECK(reputation.of("c") == Catch::Approx(0.5));  // flat since it came: not judged
  CHECK_FALSE(reputation.records().contains("c"));
}

TEST_CASE("trader: peers' fair values are checked against its own look and liars are ignored") {
  TraderConfig config = two_venues();
  config.epoch_ns = 1'000 * ms;
  FundamentalValue truth(config.seed, "ACME", {});
  Trader trader(config, std::make_unique<Idle>());
  std::int64_t now = config.epoch_ns;
  for (int i = 1; i <= 6; ++i) {
    now += 500 * ms;
    const std::int64_t value = truth.at((now - config.epoch_ns) / ms);
    CHECK(trader.on_signal(from("honest", i, SignalKind::fair_value, value, now), now) ==
          Admission::fresh);
    CHECK(trader.on_signal(from("liar", i, SignalKind::fair_value, value + value / 20, now), now) ==
          Admission::fresh);
    CHECK(trader.on_signal(from("liar", i, SignalKind::fair_value, 0, now), now) ==
          Admission::duplicate);
  }
  CHECK(trader.reputation().of("honest") > 0.8);
  CHECK(trader.reputation().of("liar") < 0.2);
  CHECK(trader.reputation().records().at("liar").received == 6u);
  View view(trader, now);
  const auto signals = view.peer_signals("ACME");
  REQUIRE(signals.size() == 6);  // the liar's are left out
  for (const auto& s : signals) {
    CHECK(s.signal->origin == "honest");
    CHECK(s.weight > 0);
    CHECK(s.weight <= 0.8);
  }
}
