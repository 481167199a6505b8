// The coalition member: it asks its coalition to trade when it is confident enough that the
// value is beyond the market's touch.
#include <algorithm>
#include <cmath>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

double CoordinatedTrader::confidence(const ValueEstimate::Belief& belief, std::int64_t price_ticks,
                                     Side side) {
  const double sd = std::sqrt(std::max(belief.variance, 1e-9));
  const double edge = side == Side::buy ? belief.value - static_cast<double>(price_ticks)
                                        : static_cast<double>(price_ticks) - belief.value;
  return 0.5 * std::erfc(-edge / (sd * std::sqrt(2.0)));  // the normal's P(edge > 0)
}

void CoordinatedTrader::decide(View& view, Decisions& out) {
  for (const SymbolInfo& symbol : view.symbols()) {
    const ValueEstimate::Belief& belief = estimate_.update(view, symbol);
    if (out.coordinated) continue;  // one trade at a time; the estimate still learns
    for (const VenueInfo& venue : view.venues()) {
      const bool listed =
          std::find(venue.symbols.begin(), venue.symbols.end(), symbol.name) != venue.symbols.end();
      if (!listed) continue;
      for (const Side side : {Side::buy, Side::sell}) {
        // What the rest of the market offers on the other side.
        const auto touch =
            view.others_best(venue.id, symbol.name, side == Side::buy ? Side::sell : Side::buy);
        if (!touch || confidence(belief, *touch, side) < params_.confidence_threshold) continue;
        out.coordinated = CoordinatedTrade{.venue = venue.id,
                                           .symbol = symbol.name,
                                           .side = side,
                                           .limit_price_ticks = *touch,
                                           .quantity_lots = params_.quantity_lots};
        break;
      }
      if (out.coordinated) break;
    }
  }
}

}  // namespace mkt::agents
