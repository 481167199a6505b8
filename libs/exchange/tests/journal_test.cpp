// The journal's record format: every command survives encode and decode; a record cut anywhere
// at the end of the file is reported as torn (and where the good records end), damage before the
// end as corrupt; and replaying a journal of random commands rebuilds the same venue.

#include "mkt/exchange/journal.h"

#include <catch2/catch_test_macros.hpp>
#include <random>

#include "mkt/testing/property.h"

using namespace mkt::exchange;
using mkt::matching::Side;

namespace {

std::vector<Record> sample() {
  SubmitCommand s;
  s.account = 3;
  s.client_order_id = "abc-1";
  s.symbol = 1;
  s.order.side = Side::sell;
  s.order.type = mkt::matching::OrderType::stop_limit;
  s.order.tif = mkt::matching::TimeInForce::fok;
  s.order.price = 12345;
  s.order.stop_price = 12300;
  s.order.quantity = 7;
  s.order.post_only = false;
  s.order.self_trade = mkt::matching::SelfTrade::cancel_both;
  s.now_ns = 1'700'000'000'000'000'000;
  return {Command(s), Command(CancelCommand{2, 99, 5}), Command(ModifyCommand{1, 7, 100, 3, -1}),
          SettlementCut{3, 77}, SettlementAck{3}};
}

bool same(const Record& a, const Record& b) {
  std::string x, y;
  encode_record(a, x);
  encode_record(b, y);
  return x == y;
}

Command random_command(std::mt19937_64& rng, int i) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int kind = pick(0, 9);
  const auto account = static_cast<AccountId>(pick(0, 2));
  if (kind < 6) {
    SubmitCommand s;
    s.account = account;
    s.client_order_id = pick(0, 1) ? "" : "c" + std::to_string(pick(0, 50));
    s.symbol = static_cast<SymbolIndex>(pick(0, 1));
    s.order.side = pick(0, 1) ? Side::buy : Side::sell;
    s.order.tif = static_cast<mkt::matching::TimeInForce>(pick(0, 2));
    s.order.price = pick(95, 105);
    s.order.quantity = pick(1, 10);
    s.now_ns = i;
    return s;
  }
  if (kind < 8) return CancelCommand{account, static_cast<OrderId>(pick(1, i + 1)), i};
  return ModifyCommand{account, static_cast<OrderId>(pick(1, i + 1)), pick(95, 105), pick(1, 10),
                       i};
}

}  // namespace

TEST_CASE("records round-trip") {
  std::string bytes;
  for (const Record& c : sample()) encode_record(c, bytes);
  RecordReader reader(bytes);
  Record got;
  for (const Record& c : sample()) {
    REQUIRE(reader.next(got) == RecordReader::Status::ok);
    CHECK(same(got, c));
  }
  CHECK(reader.next(got) == RecordReader::Status::end);
  CHECK(reader.offset() == bytes.size());
  CHECK(mkt::core::crc32c("123456789") == 0xE3069283u);  // the CRC-32C check value
}

TEST_CASE("a record cut or damaged at the end is torn and damage before the end is corrupt") {
  std::string bytes;
  for (std::size_t i = 0; i < 3; ++i) encode_record(sample()[i], bytes);
  std::string two;
  encode_record(sample()[0], two);
  encode_record(sample()[1], two);
  for (std::size_t cut = two.size() + 1; cut < bytes.size(); ++cut) {
    RecordReader reader(std::string_view(bytes).substr(0, cut));
    Record got;
    REQUIRE(reader.next(got) == RecordReader::Status::ok);
    REQUIRE(reader.next(got) == RecordReader::Status::ok);
    CHECK(reader.next(got) == RecordReader::Status::torn);
    CHECK(reader.offset() == two.size());
  }
  std::string damaged_last = bytes;
  damaged_last[bytes.size() - 2] ^= 0x01;
  RecordReader last(damaged_last);
  Record got;
  last.next(got);
  last.next(got);
  CHECK(last.next(got) == RecordReader::Status::torn);

  std::string damaged_first = bytes;
  damaged_first[mkt::core::frame_header_bytes + 3] ^= 0x40;
  RecordReader first(damaged_first);
  CHECK(first.next(got) == RecordReader::Status::corrupt);
  CHECK(first.offset() == 0);
  CHECK(first.error() == "record at byte 0: checksum mismatch");
}

TEST_CASE("replaying the journal rebuilds the same venue") {
  mkt::testing::property("same books, accounts and numbering after replay", 200, [] {
    VenueConfig config;
    config.symbols = {{"AAA", 1, 100}, {"BBB", 3, 100}};
    config.accounts = {{"a", 0}, {"b", 0}, {"c", 0}};
    config.risk.max_open_orders = 20;
    Venue live(config);
    std::string journal;
    const auto n = *rc::gen::inRange(1, 300);
    std::mt19937_64 rng(*rc::gen::arbitrary<std::uint64_t>());
    for (int i = 0; i < n; ++i) {
      const Command command = random_command(rng, i);
      // As the service does: only what changed the venue is journalled.
      if (changes_state(run_command(live, command))) encode_record(command, journal);
    }
    Venue replayed(config);
    RecordReader reader(journal);
    Record record;
    while (reader.next(record) == RecordReader::Status::ok) {
      run_command(replayed, std::get<Command>(record));
    }
    RC_ASSERT(reader.offset() == journal.size());
    RC_ASSERT(replayed.last_order_id() == live.last_order_id());
    RC_ASSERT(replayed.last_trade_id() == live.last_trade_id());
    // The history a restarted exchange counts on from: the same, and every trade in it.
    RC_ASSERT(replayed.history().commands == live.history().commands);
    RC_ASSERT(replayed.history().trades == live.history().trades);
    RC_ASSERT(replayed.history().traded_lots == live.history().traded_lots);
    RC_ASSERT(live.history().trades[0] + live.history().trades[1] == live.last_trade_id());
    for (SymbolIndex s = 0; s < 2; ++s) {
      RC_ASSERT(replayed.md_seq(s) == live.md_seq(s));
      for (Side side : {Side::buy, Side::sell}) {
        RC_ASSERT(replayed.book(s).resting(side) == live.book(s).resting(side));
      }
    }
    for (AccountId a = 0; a < 3; ++a) {
      RC_ASSERT(replayed.account(a).cash == live.account(a).cash);
      RC_ASSERT(replayed.account(a).open_orders == live.account(a).open_orders);
      for (SymbolIndex s = 0; s < 2; ++s) {
        RC_ASSERT(replayed.account(a).holdings[s].position == live.account(a).holdings[s].position);
      }
    }
  });
}
