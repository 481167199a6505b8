#pragma once
// Applies level events to an empty L2 book, as a market data subscriber does, so tests can check
// that the events rebuild the book's levels.

#include <algorithm>
#include <map>
#include <vector>

#include "mkt/matching/types.h"

namespace mkt::matching::testing {

class LevelReplay {
 public:
  void apply(const Event& e) {
    if (e.kind != EventKind::level) return;
    auto& levels = sides_[e.side == Side::buy ? 0 : 1];
    if (e.quantity == 0) {
      levels.erase(e.price);
    } else {
      levels[e.price] = {e.price, e.quantity, e.level_orders};
    }
  }

  // Best first, as OrderBook::levels gives them.
  std::vector<LevelView> levels(Side side) const {
    std::vector<LevelView> result;
    for (const auto& [price, level] : sides_[side == Side::buy ? 0 : 1]) result.push_back(level);
    if (side == Side::buy) std::reverse(result.begin(), result.end());
    return result;
  }

 private:
  std::map<Price, LevelView> sides_[2];
};

}  // namespace mkt::matching::testing
