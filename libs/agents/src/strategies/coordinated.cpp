// The coalition member: it asks its coalition to trade when it is confident enough that the
// value is beyond the market's touch.
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
    // One trade at a time: the first sure enough (the estimates still learn from every look).
    if (!out.coordinated) out.coordinated = trade(view, symbol.name, belief);
  }
}

std::optional<CoordinatedTrade> CoordinatedTrader::trade(
    const View& view, const std::string& symbol, const ValueEstimate::Belief& belief) const {
  for (const VenueInfo& venue : view.venues()) {
    for (const Side side : {Side::buy, Side::sell}) {
      // What the rest of the market offers on the other side (none where it is not listed).
      const auto touch =
          view.others_best(venue.id, symbol, side == Side::buy ? Side::sell : Side::buy);
      if (touch && confidence(belief, *touch, side) >= params_.confidence_threshold) {
        return CoordinatedTrade{.venue = venue.id,
                                .symbol = symbol,
                                .side = side,
                                .limit_price_ticks = *touch,
                                .quantity_lots = params_.quantity_lots};
      }
    }
  }
  return std::nullopt;
}

}  // namespace mkt::agents
