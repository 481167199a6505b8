#pragma once
// A book of price levels (L2), kept from level changes: what the exchange has published, so its
// snapshots agree with the deltas already sent, and what a market data client rebuilds.

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "mkt/matching/types.h"

namespace mkt::exchange {

class LevelBook {
 public:
  // The level's new total; quantity 0 removes it.
  void set(matching::Side side, matching::Price price, matching::Quantity quantity,
           std::uint32_t orders) {
    auto& levels = side == matching::Side::buy ? bids_ : asks_;
    if (quantity == 0) {
      levels.erase(price);
    } else {
      levels[price] = {price, quantity, orders};
    }
  }

  std::size_t level_count(matching::Side side) const {
    return side == matching::Side::buy ? bids_.size() : asks_.size();
  }

  // The best price on a side: the highest bid, the lowest ask; none when the side is empty.
  std::optional<matching::Price> best(matching::Side side) const {
    if (side == matching::Side::buy) {
      return bids_.empty() ? std::nullopt : std::optional(bids_.rbegin()->first);
    }
    return asks_.empty() ? std::nullopt : std::optional(asks_.begin()->first);
  }

  // Best first (bids high to low, asks low to high); depth 0 means every level.
  std::vector<matching::LevelView> levels(matching::Side side, std::size_t depth = 0) const {
    std::vector<matching::LevelView> out;
    auto take = [&](auto begin, auto end) {
      for (auto it = begin; it != end && (depth == 0 || out.size() < depth); ++it) {
        out.push_back(it->second);
      }
    };
    if (side == matching::Side::buy) {
      take(bids_.rbegin(), bids_.rend());
    } else {
      take(asks_.begin(), asks_.end());
    }
    return out;
  }

 private:
  std::map<matching::Price, matching::LevelView> bids_;
  std::map<matching::Price, matching::LevelView> asks_;
};

}  // namespace mkt::exchange
