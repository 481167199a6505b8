// Two-sided quotes with an inventory skew (Avellaneda and Stoikov).
#include <algorithm>
#include <cmath>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

MarketMaker::Quote MarketMaker::quotes(std::int64_t mid_ticks, std::int64_t position_lots,
                                       double variance) const {
  const double gamma = params_.risk_aversion;
  const double spread = static_cast<double>(std::max<std::int64_t>(1, params_.spread_ticks));
  const double var = std::clamp(variance, 0.0, 16 * spread * spread);
  const double quotes_held =
      static_cast<double>(position_lots) /
      static_cast<double>(std::max<std::int64_t>(1, params_.quote_quantity_lots));
  const double skew = std::clamp(quotes_held * gamma * var, -4 * spread, 4 * spread);
  const double reservation = static_cast<double>(mid_ticks) - skew;
  const double half = spread / 2.0 + gamma * var / 2.0;
  Quote q;
  q.bid = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(reservation - half)));
  q.ask =
      std::max<std::int64_t>(q.bid + 1, static_cast<std::int64_t>(std::ceil(reservation + half)));
  if (position_lots >= params_.position_limit_lots) q.bid = 0;
  if (position_lots <= -params_.position_limit_lots) q.ask = 0;
  return q;
}

void MarketMaker::decide(View& view, Decisions& out) {
  const auto live = view.live_orders();
  for (const VenueInfo& venue : view.venues()) {
    for (const std::string& symbol : venue.symbols) {
      // The mid of what the others quote, else the last trade, else the reference.
      const auto bid = view.others_best(venue.id, symbol, Side::buy);
      const auto ask = view.others_best(venue.id, symbol, Side::sell);
      std::int64_t mid = 0;
      if (bid && ask) {
        mid = (*bid + *ask) / 2;
      } else if (const LocalBook* book = view.book(venue.id, symbol);
                 book != nullptr && book->last_trade_ticks() > 0) {
        mid = book->last_trade_ticks();
      } else if (const SymbolInfo* info = view.symbol(symbol)) {
        mid = info->reference_ticks;
      }
      if (mid <= 0) continue;
      Track& track = tracks_[venue.id + "/" + symbol];
      if (track.last_mid != 0) {
        const double change = static_cast<double>(mid - track.last_mid);
        track.variance = 0.9 * track.variance + 0.1 * change * change;
      }
      track.last_mid = mid;
      const Quote wanted = quotes(mid, view.position(symbol), track.variance);
      for (const Side side : {Side::buy, Side::sell}) {
        const std::int64_t price = side == Side::buy ? wanted.bid : wanted.ask;
        bool keep = false;
        for (const OwnOrder* order : live) {
          const OrderRequest& r = order->request;
          if (r.venue != venue.id || r.symbol != symbol || r.side != side) continue;
          // A quote at the wanted price with at least half its size left stays (and keeps its
          // place in the queue); any other is replaced.
          if (!keep && price != 0 && r.price_ticks == price &&
              order->remaining_lots * 2 >= params_.quote_quantity_lots) {
            keep = true;
          } else {
            out.cancels.push_back(order->id);
          }
        }
        if (keep || price == 0) continue;
        out.orders.push_back({.venue = venue.id,
                              .symbol = symbol,
                              .side = side,
                              .price_ticks = price,
                              .quantity_lots = params_.quote_quantity_lots,
                              .tif = Tif::gtc,
                              .post_only = true});
      }
    }
  }
}

}  // namespace mkt::agents
