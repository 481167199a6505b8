// The ledger's hash is kept as batches apply (O(1) to read) and must always equal the hash
// computed from the whole state: checked with RapidCheck over random batches (duplicates, gaps,
// skipped entries, a bounded trade history that forgets the oldest) and after a snapshot is
// restored; a different state gives a different hash.
#include <catch2/catch_test_macros.hpp>

#include "mkt/ledger/ledger.h"
#include "mkt/testing/property.h"

namespace mkt::ledger::test {

struct Step {
  bool skip = false;
  std::uint8_t exchange = 0;
  std::uint8_t sequence_offset = 0;  // 0: the next; 1: a duplicate of the last; 2: a gap
  std::vector<std::pair<std::uint8_t, std::uint8_t>> trades;  // (buyer, seller) of 4 accounts
};

}  // namespace mkt::ledger::test

namespace rc {
template <>
struct Arbitrary<mkt::ledger::test::Step> {
  static Gen<mkt::ledger::test::Step> arbitrary() {
    return gen::build<mkt::ledger::test::Step>(
        gen::set(&mkt::ledger::test::Step::skip,
                 gen::weightedElement<bool>({{1, true}, {6, false}})),
        gen::set(&mkt::ledger::test::Step::exchange),
        gen::set(&mkt::ledger::test::Step::sequence_offset, gen::inRange<std::uint8_t>(0, 3)),
        gen::set(&mkt::ledger::test::Step::trades,
                 gen::container<std::vector<std::pair<std::uint8_t, std::uint8_t>>>(
                     gen::arbitrary<std::pair<std::uint8_t, std::uint8_t>>())));
  }
};
}  // namespace rc

namespace mkt::ledger {
namespace {

using test::Step;

Batch batch_of(const Ledger& ledger, const Step& step, std::uint64_t& trade_id) {
  Batch batch;
  batch.exchange_id = "ex-" + std::to_string(step.exchange % 3);
  const std::uint64_t next = ledger.next_sequence(batch.exchange_id);
  batch.sequence = step.sequence_offset == 0   ? next
                   : step.sequence_offset == 1 ? std::max<std::uint64_t>(1, next - 1)
                                               : next + 1;
  for (const auto& [buyer, seller] : step.trades) {
    Trade t;
    t.trade_id = ++trade_id;
    t.symbol = trade_id % 2 ? "S" : "T";
    t.price_ticks = static_cast<std::int64_t>(1 + trade_id % 7);
    t.quantity_lots = static_cast<std::int64_t>(1 + trade_id % 5);
    t.notional = t.price_ticks * t.quantity_lots;
    t.buyer = "acct-" + std::to_string(buyer % 4);
    t.seller = "acct-" + std::to_string(seller % 4);
    batch.trades.push_back(t);
  }
  return batch;
}

}  // namespace

TEST_CASE("ledger hash: the kept hash equals a full recomputation, before and after a restore") {
  mkt::testing::property("kept == recomputed", [](const std::vector<Step>& steps) {
    Ledger ledger(/*trades_kept_max=*/5);
    std::uint64_t index = 0;
    std::uint64_t trade_id = 0;
    for (const Step& step : steps) {
      if (step.skip) {
        ledger.skip(++index);
      } else {
        ledger.apply(++index, batch_of(ledger, step, trade_id));
      }
      RC_ASSERT(ledger.hash() == ledger.recompute_hash());
    }
    auto restored = Ledger::load(ledger.save(), 5);
    RC_ASSERT(restored.has_value());
    RC_ASSERT(restored->hash() == ledger.hash());
    RC_ASSERT(restored->recompute_hash() == ledger.hash());
    // A restore into a smaller history forgets trades, and its hash follows.
    auto smaller = Ledger::load(ledger.save(), 2);
    RC_ASSERT(smaller->hash() == smaller->recompute_hash());
    RC_ASSERT((smaller->trades_kept() == ledger.trades_kept()) ==
              (smaller->hash() == ledger.hash()));
  });
}

TEST_CASE("ledger hash: a different state has a different hash") {
  auto trade = [](std::int64_t quantity) {
    return Trade{.trade_id = 1,
                 .symbol = "S",
                 .price_ticks = 10,
                 .quantity_lots = quantity,
                 .notional = 10 * quantity,
                 .buyer = "x",
                 .seller = "y"};
  };
  Ledger a;
  Ledger b;
  a.apply(1, {"ex-1", 1, {trade(2)}});
  b.apply(1, {"ex-1", 1, {trade(3)}});
  CHECK(a.hash() != b.hash());
  Ledger c;
  c.apply(1, {"ex-1", 1, {trade(2)}});
  CHECK(a.hash() == c.hash());
  c.skip(2);
  CHECK(a.hash() != c.hash());
}

}  // namespace mkt::ledger
