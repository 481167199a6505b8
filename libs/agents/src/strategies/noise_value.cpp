// The traders that make prices move: noise (zero intelligence) and value.
#include <algorithm>
#include <cmath>

#include "mkt/agents/strategies.h"
#include "mkt/agents/trader.h"

namespace mkt::agents {

void NoiseTrader::decide(View& view, Decisions& out) {
  const std::int64_t lifetime_ns = params_.order_lifetime_ms * 1'000'000;
  for (const OwnOrder* order : view.live_orders()) {
    if (view.now_ns() - order->decided_ns >= lifetime_ns) out.cancels.push_back(order->id);
  }
  const auto& venues = view.venues();
  if (venues.empty()) return;
  const auto& venue = venues[static_cast<std::size_t>(
      view.random().between(0, static_cast<std::int64_t>(venues.size()) - 1))];
  if (venue.symbols.empty()) return;
  const auto& symbol = venue.symbols[static_cast<std::size_t>(
      view.random().between(0, static_cast<std::int64_t>(venue.symbols.size()) - 1))];
  const std::int64_t anchor = view.anchor_ticks(venue.id, symbol);
  if (anchor <= 0) return;
  OrderRequest order;
  order.venue = venue.id;
  order.symbol = symbol;
  order.side = view.random().chance(0.5) ? Side::buy : Side::sell;
  order.price_ticks = std::max<std::int64_t>(
      1, anchor + view.random().between(-params_.price_range_ticks, params_.price_range_ticks));
  order.quantity_lots =
      view.random().between(1, std::max<std::int64_t>(1, params_.quantity_lots_max));
  out.orders.push_back(std::move(order));
}

const ValueEstimate::Belief& ValueEstimate::update(View& view, const SymbolInfo& symbol) {
  const auto noise_of = sight_.observation_noise_ticks.find(symbol.name);
  const double noise = noise_of == sight_.observation_noise_ticks.end() ? sight_.default_noise_ticks
                                                                        : noise_of->second;
  const double noise_var = noise * noise;
  Belief& belief = beliefs_[symbol.name];
  const auto take = [&](double observed, double variance) {
    const double gain = variance > 0 ? belief.variance / (belief.variance + variance) : 1.0;
    belief.value += gain * (observed - belief.value);
    belief.variance = (1 - gain) * belief.variance;
  };
  const double observed = static_cast<double>(view.observe_value(symbol.name, noise));
  if (belief.value == 0) {
    belief = {.value = observed, .variance = noise_var};
  } else {
    // Process noise over one interval: the daily volatility scaled to it.
    constexpr double day_ms = 86'400'000.0;
    const double sigma = static_cast<double>(symbol.reference_ticks) *
                         static_cast<double>(sight_.volatility_ppm) * 1e-6;
    belief.variance += sigma * sigma * static_cast<double>(interval_ms_) / day_ms;
    take(observed, noise_var);
  }
  for (const WeightedSignal& heard : view.peer_signals(symbol.name)) {
    const PeerSignal& s = *heard.signal;
    if (s.kind != SignalKind::fair_value || s.value_ticks <= 0 || heard.weight <= 0) continue;
    std::int64_t& until = heard_until_ns_[s.origin];
    if (s.origin_ts_ns <= until) continue;  // taken already
    until = s.origin_ts_ns;
    take(static_cast<double>(s.value_ticks), noise_var / heard.weight);
  }
  return belief;
}

double ValueEstimate::value(const std::string& symbol) const {
  const auto it = beliefs_.find(symbol);
  return it == beliefs_.end() ? 0 : it->second.value;
}

void ValueTrader::decide(View& view, Decisions& out) {
  const auto& venues = view.venues();
  if (venues.empty()) return;
  for (const SymbolInfo& symbol : view.symbols()) {
    const ValueEstimate::Belief& belief = estimate_.update(view, symbol);
    const double target = (1 - params_.mean_reversion) * belief.value +
                          params_.mean_reversion * static_cast<double>(symbol.reference_ticks);
    const auto target_ticks = std::max<std::int64_t>(1, std::llround(target));

    // One order per symbol: the last one goes before a new one is placed.
    for (const OwnOrder* order : view.live_orders()) {
      if (order->request.symbol == symbol.name) out.cancels.push_back(order->id);
    }
    // The venue: a random one of those listing the symbol.
    std::vector<const VenueInfo*> listing;
    for (const auto& venue : venues) {
      if (std::find(venue.symbols.begin(), venue.symbols.end(), symbol.name) !=
          venue.symbols.end()) {
        listing.push_back(&venue);
      }
    }
    if (listing.empty()) continue;
    const VenueInfo& venue = *listing[static_cast<std::size_t>(
        view.random().between(0, static_cast<std::int64_t>(listing.size()) - 1))];
    const std::int64_t mid = view.anchor_ticks(venue.id, symbol.name);
    if (target_ticks == mid) continue;
    OrderRequest order;
    order.venue = venue.id;
    order.symbol = symbol.name;
    order.side = target_ticks > mid ? Side::buy : Side::sell;
    // At its estimate: it takes what is cheaper than its value, and rests the rest there.
    order.price_ticks = target_ticks;
    order.quantity_lots =
        view.random().between(1, std::max<std::int64_t>(1, params_.quantity_lots_max));
    out.orders.push_back(std::move(order));
  }
}

}  // namespace mkt::agents
