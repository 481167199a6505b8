#pragma once
// A venue's book as an agent keeps it from the market data stream: a snapshot, then per-symbol
// sequenced level changes and trades. Each update must carry the next sequence number; one that
// skips ahead is a gap, after which the book is not trusted (ready() is false) until the next
// snapshot; one at or below the current sequence is stale (a duplicate) and ignored.

#include <cstdint>
#include <optional>
#include <vector>

#include "mkt/matching/types.h"

namespace mkt::agents {

struct BookLevel {
  std::int64_t price_ticks = 0;
  std::int64_t quantity_lots = 0;
  std::uint32_t orders = 0;

  friend bool operator==(const BookLevel&, const BookLevel&) = default;
};

enum class BookUpdate {
  applied,
  stale,      // at or below the current sequence: already seen, ignored
  gap,        // skipped ahead: the book is dropped until a new snapshot
  not_ready,  // no snapshot since the start or the last gap: ignored
};

class LocalBook {
 public:
  // Replaces the book. Bids best (highest) first, asks best (lowest) first, as snapshots list
  // them; levels are sorted here anyway. Levels of zero quantity are dropped.
  void reset(std::uint64_t seq, std::vector<BookLevel> bids, std::vector<BookLevel> asks,
             std::int64_t last_trade_ticks);
  // A level's new total: quantity 0 removes it.
  BookUpdate apply_level(std::uint64_t seq, matching::Side side, const BookLevel& level);
  BookUpdate apply_trade(std::uint64_t seq, std::int64_t price_ticks, std::int64_t quantity_lots);

  bool ready() const { return ready_; }
  std::uint64_t seq() const { return seq_; }
  std::uint64_t gaps() const { return gaps_; }
  const std::vector<BookLevel>& bids() const { return bids_; }
  const std::vector<BookLevel>& asks() const { return asks_; }
  std::optional<std::int64_t> best_bid() const;
  std::optional<std::int64_t> best_ask() const;
  // Twice the mid price, in ticks (exact when the spread is odd), when both sides have a level.
  std::optional<std::int64_t> mid_x2() const;
  std::int64_t last_trade_ticks() const { return last_trade_ticks_; }
  std::int64_t last_trade_lots() const { return last_trade_lots_; }

 private:
  BookUpdate sequence(std::uint64_t seq);

  std::vector<BookLevel> bids_;  // descending price
  std::vector<BookLevel> asks_;  // ascending price
  std::uint64_t seq_ = 0;
  std::uint64_t gaps_ = 0;
  bool ready_ = false;
  std::int64_t last_trade_ticks_ = 0;
  std::int64_t last_trade_lots_ = 0;
};

}  // namespace mkt::agents
