// Cross-venue arbitrage with leg-risk tracking.
#include <algorithm>
#include <cmath>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

double Arbitrageur::hurdle_ticks(std::int64_t price_ticks, std::int64_t round_trip_ns) const {
  constexpr double day_ns = 86'400e9;
  const double price = static_cast<double>(price_ticks);
  const double one_way = static_cast<double>(std::max<std::int64_t>(0, round_trip_ns)) / 2;
  const double expected_move =
      price * static_cast<double>(params_.volatility_ppm) * 1e-6 * std::sqrt(one_way / day_ns);
  return 2.0 * static_cast<double>(params_.fee_ticks) + params_.min_profit * price + expected_move;
}

void Arbitrageur::decide(View& view, Decisions& out) {
  const auto live = view.live_orders();
  for (const SymbolInfo& symbol : view.symbols()) {
    const bool in_flight = std::any_of(live.begin(), live.end(), [&](const OwnOrder* o) {
      return o->request.symbol == symbol.name;
    });
    if (in_flight) continue;
    const std::int64_t position = view.position(symbol.name);
    if (position != 0) {
      unwind(view, symbol.name, position, out);
      continue;
    }
    exposed_since_ns_.erase(symbol.name);

    struct Pick {
      const VenueInfo* buy = nullptr;
      const VenueInfo* sell = nullptr;
      double surplus = 0;
      std::int64_t ask = 0, bid = 0, lots = 0;
    } pick;
    for (const VenueInfo& a : view.venues()) {
      const LocalBook* buy_book = view.book(a.id, symbol.name);
      if (buy_book == nullptr || buy_book->asks().empty()) continue;
      const BookLevel& ask = buy_book->asks().front();
      for (const VenueInfo& b : view.venues()) {
        if (&a == &b) continue;
        const LocalBook* sell_book = view.book(b.id, symbol.name);
        if (sell_book == nullptr || sell_book->bids().empty()) continue;
        const BookLevel& bid = sell_book->bids().front();
        const std::int64_t slower = std::max(view.round_trip_ns(a.id), view.round_trip_ns(b.id));
        const double surplus = static_cast<double>(bid.price_ticks - ask.price_ticks) -
                               hurdle_ticks(ask.price_ticks, slower);
        if (surplus > pick.surplus) {
          pick = {.buy = &a,
                  .sell = &b,
                  .surplus = surplus,
                  .ask = ask.price_ticks,
                  .bid = bid.price_ticks,
                  .lots = std::min({params_.quantity_lots, ask.quantity_lots, bid.quantity_lots})};
        }
      }
    }
    if (pick.buy == nullptr || pick.lots <= 0) continue;
    ++fired_;
    out.orders.push_back(take_order(pick.buy->id, symbol.name, Side::buy, pick.ask, pick.lots));
    out.orders.push_back(take_order(pick.sell->id, symbol.name, Side::sell, pick.bid, pick.lots));
  }
}

void Arbitrageur::unwind(View& view, const std::string& symbol, std::int64_t position,
                         Decisions& out) {
  const auto since = exposed_since_ns_.try_emplace(symbol, view.now_ns()).first->second;
  const Side side = position > 0 ? Side::sell : Side::buy;
  // The best price on any venue; a market order there once the position is held too long.
  const VenueInfo* where = nullptr;
  std::int64_t best = 0;
  for (const VenueInfo& venue : view.venues()) {
    const LocalBook* book = view.book(venue.id, symbol);
    if (book == nullptr) continue;
    const auto touch = side == Side::sell ? book->best_bid() : book->best_ask();
    if (!touch) continue;
    if (where == nullptr || (side == Side::sell ? *touch > best : *touch < best)) {
      where = &venue;
      best = *touch;
    }
  }
  if (where == nullptr) return;
  const bool overdue = view.now_ns() - since >= params_.max_holding_ms * 1'000'000;
  ++unwinds_;
  out.orders.push_back(take_order(where->id, symbol, side, overdue ? 0 : best, std::abs(position)));
}

}  // namespace mkt::agents
