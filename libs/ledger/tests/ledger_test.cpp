// The ledger state machine: exactly-once batches per exchange, cash and positions, trade lookup
// with a bounded history, the entry codec and its checks, what the market admits (every kind of
// forged batch refused, naming the trade), snapshots that restore the same hash.

#include "mkt/ledger/ledger.h"

#include <catch2/catch_test_macros.hpp>

namespace mkt::ledger {
namespace {

Trade trade(std::uint64_t id, std::string buyer, std::string seller, std::int64_t qty = 10,
            std::int64_t price = 100) {
  Trade t;
  t.trade_id = id;
  t.symbol = "BTC-USD";
  t.price_ticks = price;
  t.quantity_lots = qty;
  t.notional = price * qty;
  t.buyer = std::move(buyer);
  t.seller = std::move(seller);
  t.aggressor = Side::buy;
  return t;
}

Batch batch(std::string exchange, std::uint64_t sequence, std::vector<Trade> trades) {
  return {std::move(exchange), sequence, std::move(trades)};
}

TEST_CASE("ledger: a batch moves cash and positions per exchange and symbol") {
  Ledger ledger;
  auto applied = ledger.apply(3, batch("ex-1", 1, {trade(1, "alice", "bob", 10, 100)}));
  CHECK(applied.outcome == Outcome::committed);
  CHECK(applied.index == 3);
  ledger.apply(4, batch("ex-2", 1, {trade(1, "bob", "alice", 4, 50)}));
  const Account* alice = ledger.account("alice");
  REQUIRE(alice);
  CHECK(alice->cash == -1000 + 200);
  CHECK(alice->positions.at({"ex-1", "BTC-USD"}) == 10);
  CHECK(alice->positions.at({"ex-2", "BTC-USD"}) == -4);
  CHECK(ledger.account("bob")->cash == 1000 - 200);
  CHECK(ledger.account("nobody") == nullptr);
  CHECK(ledger.applied_index() == 4);
}

TEST_CASE("ledger: a batch applies once; duplicates and gaps change nothing") {
  Ledger ledger;
  ledger.apply(1, batch("ex-1", 1, {trade(1, "a", "b")}));
  const auto hash = ledger.hash();
  auto again = ledger.apply(2, batch("ex-1", 1, {trade(1, "a", "b")}));
  CHECK(again.outcome == Outcome::duplicate);
  CHECK(again.index == 1);
  auto gap = ledger.apply(3, batch("ex-1", 3, {trade(5, "a", "b")}));
  CHECK(gap.outcome == Outcome::out_of_order);
  CHECK(gap.expected_sequence == 2);
  auto unknown_gap = ledger.apply(4, batch("ex-9", 2, {trade(5, "a", "b")}));
  CHECK(unknown_gap.outcome == Outcome::out_of_order);
  CHECK(unknown_gap.expected_sequence == 1);
  CHECK(ledger.next_sequence("ex-9") == 1);
  ledger.skip(5);
  // Only the applied index moved: compare against a ledger that skipped the same entries.
  Ledger same;
  same.apply(1, batch("ex-1", 1, {trade(1, "a", "b")}));
  same.skip(5);
  CHECK(ledger.hash() == same.hash());
  CHECK(ledger.hash() != hash);
  CHECK(ledger.next_sequence("ex-1") == 2);
  CHECK(ledger.index_of("ex-1", 1) == 1);
  CHECK(ledger.index_of("ex-1", 2) == std::nullopt);
  CHECK(ledger.account("a")->cash == -1000);
}

TEST_CASE("ledger: trades are found by exchange and id while kept") {
  Ledger ledger(3);
  ledger.apply(1, batch("ex-1", 1, {trade(1, "a", "b"), trade(2, "a", "b")}));
  ledger.apply(2, batch("ex-2", 1, {trade(1, "c", "d"), trade(2, "c", "d")}));
  CHECK(ledger.trades_kept() == 3);
  CHECK(ledger.trades_applied() == 4);
  CHECK(ledger.trade("ex-1", 1) == nullptr);  // the oldest, forgotten
  REQUIRE(ledger.trade("ex-1", 2));
  CHECK(ledger.trade("ex-1", 2)->index == 1);
  REQUIRE(ledger.trade("ex-2", 2));
  CHECK(ledger.trade("ex-2", 2)->trade.buyer == "c");
  CHECK(ledger.trade("ex-2", 3) == nullptr);
}

TEST_CASE("ledger: a snapshot restores the same state and hash") {
  Ledger ledger(100);
  for (std::uint64_t i = 1; i <= 20; ++i) {
    ledger.apply(i,
                 batch("ex-" + std::to_string(i % 3), (i + 2) / 3,
                       {trade(i, "a" + std::to_string(i % 4), "b", static_cast<std::int64_t>(i))}));
  }
  auto loaded = Ledger::load(ledger.save(), 100);
  REQUIRE(loaded);
  CHECK(loaded->hash() == ledger.hash());
  CHECK(loaded->applied_index() == 20);
  CHECK(loaded->next_sequence("ex-1") == ledger.next_sequence("ex-1"));
  REQUIRE(loaded->trade("ex-2", 20));
  // Both go on identically.
  ledger.apply(21, batch("ex-0", 8, {trade(99, "x", "y")}));
  loaded->apply(21, batch("ex-0", 8, {trade(99, "x", "y")}));
  CHECK(loaded->hash() == ledger.hash());
  // Damaged snapshots are refused.
  std::string bytes = ledger.save();
  CHECK_FALSE(Ledger::load(bytes.substr(0, bytes.size() - 1)));
  CHECK_FALSE(Ledger::load(bytes + "x"));
  CHECK_FALSE(Ledger::load(""));
}

TEST_CASE("ledger: the entry codec round-trips and refuses bad batches") {
  Batch good = batch("ex-1", 7, {trade(1, "a", "b"), trade(2, "b", "a", 3, 7)});
  auto decoded = decode(encode(good));
  REQUIRE(decoded);
  CHECK(*decoded == good);
  CHECK_FALSE(decode(encode(good).substr(1)));
  CHECK_FALSE(decode(encode(good) + "!"));

  auto refused = [](Batch b) { return !check(b).has_value() && !decode(encode(b)).has_value(); };
  CHECK(refused(batch("", 1, {})));
  CHECK(refused(batch("ex", 0, {})));
  CHECK(refused(batch("ex", 1, {trade(2, "a", "b"), trade(2, "a", "b")})));
  Trade bad = trade(1, "a", "b");
  bad.quantity_lots = 0;
  CHECK(refused(batch("ex", 1, {bad})));
  bad = trade(1, "a", "b");
  bad.price_ticks = -1;
  CHECK(refused(batch("ex", 1, {bad})));
  bad = trade(1, "", "b");
  CHECK(refused(batch("ex", 1, {bad})));
  bad = trade(1, "a", "b");
  bad.notional = notional_max + 1;
  CHECK(refused(batch("ex", 1, {bad})));
  std::vector<Trade> many;
  for (std::uint64_t i = 1; i <= batch_trades_max + 1; ++i) many.push_back(trade(i, "a", "b"));
  CHECK(refused(batch("ex", 1, many)));
  CHECK(check(batch("ex", 1, {})).has_value());  // an empty batch is allowed
}

TEST_CASE("ledger: the market admits only its exchanges, symbols and accounts, at exact prices") {
  // BTC-USD on ex-1 at 5 cash units per tick-lot; ETH-USD only on ex-2.
  const Admission market{.exchanges = {{"ex-1", {{"BTC-USD", 5}}}, {"ex-2", {{"ETH-USD", 1}}}},
                         .accounts = {"a", "b"}};
  auto priced = [](Trade t) {
    t.notional = t.price_ticks * t.quantity_lots * 5;
    return t;
  };
  CHECK(admit(batch("ex-1", 1, {priced(trade(1, "a", "b")), priced(trade(2, "b", "a", 3, 7))}),
              market));
  const auto refusal = [&](const Batch& b) {
    REQUIRE(check(b));  // well formed: only the market's rules refuse it
    const auto admitted = admit(b, market);
    REQUIRE_FALSE(admitted);
    return admitted.error();
  };
  CHECK(refusal(batch("ex-9", 1, {priced(trade(1, "a", "b"))})) ==
        "exchange 'ex-9' is not in the scenario");
  CHECK(refusal(batch("ex-1", 1, {})) == "a batch holds at least one trade");
  Trade other = priced(trade(8, "a", "b"));
  other.symbol = "ETH-USD";  // listed, but on the other exchange
  CHECK(refusal(batch("ex-1", 1, {priced(trade(7, "a", "b")), other})) ==
        "trade 1 (id 8): symbol 'ETH-USD' is not listed on ex-1");
  CHECK(refusal(batch("ex-1", 1, {priced(trade(1, "a", "mallory"))})) ==
        "trade 0 (id 1): account 'mallory' is not in the scenario");
  CHECK(refusal(batch("ex-1", 1, {priced(trade(1, "a", "a"))})) ==
        "trade 0 (id 1): the buyer is the seller");
  // The report that moved a million: one tick, one lot, a notional of 100,000,000.
  Trade forged = trade(1, "a", "b", 1, 1);
  forged.notional = 100'000'000;
  CHECK(refusal(batch("ex-1", 1, {forged})) ==
        "trade 0 (id 1): notional 100000000 is not 1 ticks x 1 lots x 5 per tick-lot");
  // A product past int64 is refused, not wrapped into a match.
  Trade huge = trade(1, "a", "b");
  huge.quantity_lots = quantity_lots_max;
  huge.price_ticks = std::int64_t{1} << 40;
  huge.notional = 0;
  CHECK(refusal(batch("ex-1", 1, {huge})).starts_with("trade 0 (id 1): notional 0 is not"));
}

}  // namespace
}  // namespace mkt::ledger
