// The local book: built from a snapshot and sequenced changes, dropped on a gap until the next
// snapshot, deaf to duplicates; and, for random changes, always equal to a naive map of levels.
#include "mkt/agents/local_book.h"

#include <catch2/catch_test_macros.hpp>
#include <map>

#include "mkt/testing/property.h"

using mkt::agents::BookLevel;
using mkt::agents::BookUpdate;
using mkt::agents::LocalBook;
using mkt::matching::Side;

TEST_CASE("local book: a snapshot, then changes in sequence") {
  LocalBook book;
  CHECK_FALSE(book.ready());
  CHECK(book.apply_level(1, Side::buy, {100, 5, 1}) == BookUpdate::not_ready);
  // Levels out of order and empty ones are put right.
  book.reset(10, {{99, 5, 1}, {100, 3, 2}, {98, 0, 0}}, {{102, 4, 1}, {101, 1, 1}}, 100);
  CHECK(book.ready());
  CHECK(book.bids() == std::vector<BookLevel>{{100, 3, 2}, {99, 5, 1}});
  CHECK(book.asks() == std::vector<BookLevel>{{101, 1, 1}, {102, 4, 1}});
  CHECK(book.mid_x2() == 201);
  CHECK(book.apply_level(11, Side::buy, {101, 2, 1}) == BookUpdate::applied);   // a new best bid
  CHECK(book.apply_level(12, Side::sell, {101, 0, 0}) == BookUpdate::applied);  // removed
  CHECK(book.apply_trade(13, 101, 1) == BookUpdate::applied);
  CHECK(book.apply_level(14, Side::buy, {99, 7, 2}) == BookUpdate::applied);  // changed
  CHECK(book.best_bid() == 101);
  CHECK(book.best_ask() == 102);
  CHECK(book.bids() == std::vector<BookLevel>{{101, 2, 1}, {100, 3, 2}, {99, 7, 2}});
  CHECK(book.last_trade_ticks() == 101);
  CHECK(book.seq() == 14);
  // A duplicate changes nothing.
  CHECK(book.apply_level(14, Side::buy, {50, 1, 1}) == BookUpdate::stale);
  CHECK(book.apply_level(3, Side::buy, {50, 1, 1}) == BookUpdate::stale);
  CHECK(book.bids().size() == 3);
}

TEST_CASE("local book: a gap drops the book until the next snapshot") {
  LocalBook book;
  book.reset(1, {{100, 1, 1}}, {{101, 1, 1}}, 0);
  CHECK(book.apply_level(3, Side::buy, {100, 2, 1}) == BookUpdate::gap);
  CHECK_FALSE(book.ready());
  CHECK(book.gaps() == 1);
  CHECK(book.bids().empty());
  CHECK_FALSE(book.mid_x2().has_value());
  CHECK(book.apply_level(4, Side::buy, {100, 2, 1}) == BookUpdate::not_ready);
  book.reset(4, {{100, 2, 1}}, {}, 0);
  CHECK(book.ready());
  CHECK(book.apply_trade(5, 100, 1) == BookUpdate::applied);
  CHECK_FALSE(book.best_ask().has_value());
}

TEST_CASE("local book: random changes give the same levels as a naive map") {
  mkt::testing::property("sorted, best first, equal to a map", 500, [] {
    LocalBook book;
    book.reset(0, {}, {}, 0);
    std::map<std::int64_t, std::int64_t> bids, asks;
    const auto changes =
        *rc::gen::container<std::vector<std::tuple<bool, int, int>>>(rc::gen::tuple(
            rc::gen::arbitrary<bool>(), rc::gen::inRange(90, 110), rc::gen::inRange(0, 4)));
    std::uint64_t seq = 0;
    for (const auto& [buy, price, quantity] : changes) {
      RC_ASSERT(book.apply_level(++seq, buy ? Side::buy : Side::sell,
                                 {price, quantity, quantity > 0 ? 1u : 0u}) == BookUpdate::applied);
      auto& side = buy ? bids : asks;
      if (quantity == 0) {
        side.erase(price);
      } else {
        side[price] = quantity;
      }
    }
    std::vector<BookLevel> want_bids, want_asks;
    for (auto it = bids.rbegin(); it != bids.rend(); ++it)
      want_bids.push_back({it->first, it->second, 1});
    for (const auto& [price, quantity] : asks) want_asks.push_back({price, quantity, 1});
    RC_ASSERT(book.bids() == want_bids);
    RC_ASSERT(book.asks() == want_asks);
  });
}
