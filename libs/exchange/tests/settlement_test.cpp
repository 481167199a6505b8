// Settlement bookkeeping: a trade's buyer and seller and notional come out right whichever side
// took; cuts close at most batch_trades_max trades; and, for random flows of commands with cuts
// and acknowledgements interleaved, replaying the journal rebuilds exactly the same batches, and
// every trade is in exactly one batch or still waiting.

#include "mkt/exchange/settlement.h"

#include <catch2/catch_test_macros.hpp>
#include <map>
#include <random>

#include "mkt/testing/property.h"

using namespace mkt::exchange;
using mkt::matching::Side;

namespace {

VenueConfig config() {
  VenueConfig c;
  c.symbols = {{"AAA", 10, 100}};
  c.accounts = {{"a", 0}, {"b", 0}, {"c", 0}};
  c.risk.max_open_orders = 30;
  return c;
}

SubmitCommand order(AccountId account, Side side, Price price, Quantity quantity,
                    std::int64_t now) {
  SubmitCommand s;
  s.account = account;
  s.order.side = side;
  s.order.price = price;
  s.order.quantity = quantity;
  s.now_ns = now;
  return s;
}

}  // namespace

TEST_CASE("a trade names its buyer and seller whichever side took") {
  Venue venue(config());
  venue.submit(order(0, Side::sell, 101, 5, 1));
  const auto buy = trades_of(venue, venue.submit(order(1, Side::buy, 102, 2, 7)), 7);
  REQUIRE(buy.size() == 1);
  CHECK(buy[0].buyer == 1);
  CHECK(buy[0].seller == 0);
  CHECK(buy[0].buy_order == 2);
  CHECK(buy[0].sell_order == 1);
  CHECK(buy[0].notional == 101 * 2 * 10);
  CHECK(buy[0].aggressor == Side::buy);
  CHECK(buy[0].executed_at_ns == 7);
  venue.submit(order(2, Side::buy, 100, 4, 8));
  const auto sell = trades_of(venue, venue.submit(order(0, Side::sell, 99, 4, 9)), 9);
  REQUIRE(sell.size() == 1);
  CHECK(sell[0].buyer == 2);
  CHECK(sell[0].seller == 0);
  CHECK(sell[0].aggressor == Side::sell);
}

TEST_CASE("cuts take at most batch_trades_max trades, and acknowledgements forget batches") {
  Settlement settlement(2);
  CHECK_FALSE(settlement.propose_cut());
  for (TradeId id = 1; id <= 3; ++id)
    settlement.add({.trade_id = id, .executed_at_ns = 10 * static_cast<std::int64_t>(id)});
  const auto cut = settlement.propose_cut();
  REQUIRE(cut);
  CHECK(cut->sequence == 1);
  CHECK(cut->last_trade_id == 2);
  settlement.apply(*cut);
  CHECK(settlement.next_batch()->trades.size() == 2);
  settlement.apply(*settlement.propose_cut());
  CHECK(settlement.unsettled_trades() == 3);
  CHECK(settlement.oldest_unsettled_ns() == 10);
  settlement.apply(SettlementAck{1});
  CHECK(settlement.next_batch()->sequence == 2);
  CHECK(settlement.unsettled_trades() == 1);
  CHECK(settlement.oldest_unsettled_ns() == 30);
  settlement.apply(SettlementAck{2});
  CHECK(settlement.next_batch() == nullptr);
  CHECK(settlement.acknowledged_sequence() == 2);
}

TEST_CASE("replaying the journal rebuilds the same batches") {
  mkt::testing::property("same batches after replay, each trade once", 200, [] {
    std::mt19937_64 rng(*rc::gen::arbitrary<std::uint64_t>());
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    const auto batch_max = static_cast<std::size_t>(*rc::gen::inRange(1, 6));
    Venue live(config());
    Settlement settlement(batch_max);
    std::string journal;
    std::map<TradeId, int> acknowledged;  // trade id -> times seen in an acknowledged batch
    TradeId trades = 0;
    const int n = *rc::gen::inRange(1, 300);
    for (int i = 0; i < n; ++i) {
      const int what = pick(0, 9);
      Record record;
      if (what < 7) {
        record = Command(order(static_cast<AccountId>(pick(0, 2)),
                               pick(0, 1) ? Side::buy : Side::sell, pick(98, 102), pick(1, 5), i));
      } else if (what < 9) {
        const auto cut = settlement.propose_cut();
        if (!cut) continue;
        record = *cut;
      } else {
        const Batch* batch = settlement.next_batch();
        if (batch == nullptr) continue;
        for (const auto& t : batch->trades) ++acknowledged[t.trade_id];
        record = SettlementAck{batch->sequence};
      }
      // Only what changed something is journalled, as the service does.
      if (replay_record(live, &settlement, record)) encode_record(record, journal);
      trades = live.last_trade_id();
    }

    Venue venue(config());
    Settlement replayed(batch_max);
    RecordReader reader(journal);
    Record record;
    while (reader.next(record) == RecordReader::Status::ok) replay_record(venue, &replayed, record);
    RC_ASSERT(replayed.cut_sequence() == settlement.cut_sequence());
    RC_ASSERT(replayed.acknowledged_sequence() == settlement.acknowledged_sequence());
    RC_ASSERT(replayed.unsettled_trades() == settlement.unsettled_trades());
    RC_ASSERT(acknowledged.size() + settlement.unsettled_trades() == trades);
    for (const auto& [id, times] : acknowledged) RC_ASSERT(times == 1);
    while (const Batch* batch = settlement.next_batch()) {
      const Batch* again = replayed.next_batch();
      RC_ASSERT(again != nullptr);
      RC_ASSERT(again->sequence == batch->sequence);
      RC_ASSERT(again->trades == batch->trades);
      const SettlementAck ack{batch->sequence};
      settlement.apply(ack);
      replayed.apply(ack);
    }
  });
}
