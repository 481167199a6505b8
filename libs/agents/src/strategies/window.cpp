// Momentum and mean reversion over a window of sampled prices.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

WindowTrader::Reading WindowTrader::read(const std::deque<std::int64_t>& prices) const {
  Reading r;
  r.target = 2;
  if (prices.size() < 2 || prices.front() <= 0) return r;
  const double last = static_cast<double>(prices.back());
  const double half = params_.threshold / 2;
  if (kind_ == Kind::momentum) {
    const double first = static_cast<double>(prices.front());
    r.move = (last - first) / first;
    std::size_t moves = 0;
    std::size_t along = 0;
    for (std::size_t i = 1; i < prices.size(); ++i) {
      const std::int64_t d = prices[i] - prices[i - 1];
      if (d == 0) continue;
      ++moves;
      if ((d > 0) == (r.move > 0)) ++along;
    }
    r.confidence = moves == 0 ? 0 : static_cast<double>(along) / static_cast<double>(moves);
    if (std::abs(r.move) >= params_.threshold && r.confidence >= params_.confidence_threshold) {
      r.target = r.move > 0 ? 1 : -1;
    } else if (std::abs(r.move) < half) {
      r.target = 0;
    }
  } else {
    const double mean =
        std::accumulate(prices.begin(), prices.end(), 0.0) / static_cast<double>(prices.size());
    r.move = (last - mean) / mean;
    r.confidence =
        params_.threshold > 0 ? std::min(1.0, std::abs(r.move) / (2 * params_.threshold)) : 1.0;
    if (std::abs(r.move) >= params_.threshold && r.confidence >= params_.confidence_threshold) {
      r.target = r.move > 0 ? -1 : 1;
    } else if (std::abs(r.move) < half) {
      r.target = 0;
    }
  }
  return r;
}

void WindowTrader::decide(View& view, Decisions& out) {
  const std::size_t length = static_cast<std::size_t>(std::max<std::int64_t>(2, params_.window));
  for (const SymbolInfo& symbol : view.symbols()) {
    // The first venue with a book of the symbol: where it samples and trades.
    const VenueInfo* venue = nullptr;
    const LocalBook* book = nullptr;
    for (const auto& v : view.venues()) {
      if ((book = view.book(v.id, symbol.name)) != nullptr) {
        venue = &v;
        break;
      }
    }
    if (book == nullptr) continue;
    const std::int64_t price = book->last_trade_ticks() > 0
                                   ? book->last_trade_ticks()
                                   : view.anchor_ticks(venue->id, symbol.name);
    auto& prices = prices_[symbol.name];
    prices.push_back(price);
    while (prices.size() > length) prices.pop_front();
    if (prices.size() < length) continue;

    const Reading reading = read(prices);
    std::int64_t& target = target_lots_[symbol.name];
    const std::int64_t before = target;
    if (reading.target != 2) target = reading.target * params_.quantity_lots;
    if (params_.share_signals && target != before && reading.target != 0) {
      out.signals.push_back(
          {.symbol = symbol.name,
           .kind = reading.target > 0 ? SignalKind::buy : SignalKind::sell,
           .confidence_ppm = static_cast<std::uint32_t>(std::lround(reading.confidence * 1e6)),
           .value_ticks = price,
           .venues = {venue->id}});
    }
    // Trade towards the target unless an order of the symbol is still on its way.
    bool pending = false;
    for (const OwnOrder* order : view.live_orders()) {
      pending = pending || order->request.symbol == symbol.name;
    }
    const std::int64_t gap = target - view.position(symbol.name);
    if (pending || gap == 0) continue;
    const Side side = gap > 0 ? Side::buy : Side::sell;
    const auto touch = side == Side::buy ? book->best_ask() : book->best_bid();
    if (!touch) continue;
    out.orders.push_back(take_order(venue->id, symbol.name, side, *touch, std::abs(gap)));
  }
}

}  // namespace mkt::agents
