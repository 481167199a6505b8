#include "mkt/agents/local_book.h"

#include <algorithm>

namespace mkt::agents {
namespace {

// Whether a level at price `a` sorts before one at `b` on this side (best first).
bool better(matching::Side side, std::int64_t a, std::int64_t b) {
  return side == matching::Side::buy ? a > b : a < b;
}

void normalise(std::vector<BookLevel>& levels, matching::Side side) {
  std::erase_if(levels, [](const BookLevel& l) { return l.quantity_lots <= 0; });
  std::sort(levels.begin(), levels.end(), [side](const BookLevel& a, const BookLevel& b) {
    return better(side, a.price_ticks, b.price_ticks);
  });
}

}  // namespace

void LocalBook::reset(std::uint64_t seq, std::vector<BookLevel> bids, std::vector<BookLevel> asks,
                      std::int64_t last_trade_ticks) {
  bids_ = std::move(bids);
  asks_ = std::move(asks);
  normalise(bids_, matching::Side::buy);
  normalise(asks_, matching::Side::sell);
  seq_ = seq;
  ready_ = true;
  last_trade_ticks_ = last_trade_ticks;
  last_trade_lots_ = 0;
}

BookUpdate LocalBook::sequence(std::uint64_t seq) {
  if (!ready_) return BookUpdate::not_ready;
  if (seq <= seq_) return BookUpdate::stale;
  if (seq != seq_ + 1) {
    ready_ = false;
    ++gaps_;
    bids_.clear();
    asks_.clear();
    return BookUpdate::gap;
  }
  seq_ = seq;
  return BookUpdate::applied;
}

BookUpdate LocalBook::apply_level(std::uint64_t seq, matching::Side side, const BookLevel& level) {
  const auto result = sequence(seq);
  if (result != BookUpdate::applied) return result;
  auto& levels = side == matching::Side::buy ? bids_ : asks_;
  const auto at = std::find_if(levels.begin(), levels.end(), [&](const BookLevel& l) {
    return !better(side, l.price_ticks, level.price_ticks);
  });
  const bool same = at != levels.end() && at->price_ticks == level.price_ticks;
  if (level.quantity_lots <= 0) {
    if (same) levels.erase(at);
  } else if (same) {
    *at = level;
  } else {
    levels.insert(at, level);
  }
  return result;
}

BookUpdate LocalBook::apply_trade(std::uint64_t seq, std::int64_t price_ticks,
                                  std::int64_t quantity_lots) {
  const auto result = sequence(seq);
  if (result != BookUpdate::applied) return result;
  last_trade_ticks_ = price_ticks;
  last_trade_lots_ = quantity_lots;
  return result;
}

std::optional<std::int64_t> LocalBook::best_bid() const {
  if (bids_.empty()) return std::nullopt;
  return bids_.front().price_ticks;
}

std::optional<std::int64_t> LocalBook::best_ask() const {
  if (asks_.empty()) return std::nullopt;
  return asks_.front().price_ticks;
}

std::optional<std::int64_t> LocalBook::mid_x2() const {
  if (bids_.empty() || asks_.empty()) return std::nullopt;
  return bids_.front().price_ticks + asks_.front().price_ticks;
}

}  // namespace mkt::agents
