#include "mkt/agents/setup.h"

#include <algorithm>
#include <cmath>

#include "mkt/agents/strategies.h"

namespace mkt::agents {
namespace {

// Typed reads of strategy_config with defaults (the scenario has checked the types).
class Params {
 public:
  explicit Params(const scenario::AgentSpec& spec) : spec_(spec) {}

  std::int64_t integer(const std::string& key, std::int64_t fallback) const {
    const auto* p = find(key);
    return p ? p->integer : fallback;
  }
  // Durations are kept in microseconds.
  std::int64_t ms(const std::string& key, std::int64_t fallback) const {
    const auto* p = find(key);
    return p ? p->integer / 1000 : fallback;
  }
  double number(const std::string& key, double fallback) const {
    const auto* p = find(key);
    if (!p) return fallback;
    if (p->type == scenario::Param::Type::integer) return static_cast<double>(p->integer);
    return static_cast<double>(p->decimal.mantissa) / std::pow(10.0, p->decimal.scale);
  }
  bool boolean(const std::string& key, bool fallback) const {
    const auto* p = find(key);
    return p ? p->boolean : fallback;
  }

 private:
  const scenario::Param* find(const std::string& key) const {
    const auto it = spec_.params.find(key);
    return it == spec_.params.end() ? nullptr : &it->second;
  }
  const scenario::AgentSpec& spec_;
};

double to_double(const core::Decimal& d) {
  return static_cast<double>(d.mantissa) / std::pow(10.0, d.scale);
}

}  // namespace

std::expected<void, std::string> strategy_supported(std::string_view strategy) {
  static const std::vector<std::string_view> supported = {
      "noise", "value", "market_maker", "momentum", "mean_reversion", "arbitrage"};
  if (std::find(supported.begin(), supported.end(), strategy) != supported.end()) return {};
  if (strategy == "external") {
    return std::unexpected(
        "an external agent: run it yourself with its key from the run's accounts file");
  }
  return std::unexpected("agentd does not run the " + std::string(strategy) + " strategy yet");
}

std::expected<AgentSetup, std::string> agent_setup(const scenario::Scenario& scenario,
                                                   std::string_view node_id,
                                                   std::int64_t epoch_ns) {
  const scenario::Node* node = scenario.find_node(node_id);
  if (node == nullptr) {
    return std::unexpected("node '" + std::string(node_id) + "' is not in scenario " +
                           scenario.name);
  }
  if (!node->agent) return std::unexpected("node '" + std::string(node_id) + "' is not an agent");
  const scenario::AgentSpec& spec = *node->agent;
  if (auto ok = strategy_supported(spec.strategy); !ok) return std::unexpected(ok.error());

  AgentSetup setup;
  TraderConfig& config = setup.config;
  config.agent_id = node->id;
  config.initial_cash_cents = spec.initial_balance_cents;
  config.seed = scenario.seed;
  config.epoch_ns = epoch_ns;
  std::uint32_t volatility_ppm = 0;
  bool risk_set = false;
  for (const scenario::Node* exchange : scenario.nodes_with_role(scenario::Role::exchange)) {
    if (!spec.venues.empty() &&
        std::find(spec.venues.begin(), spec.venues.end(), exchange->id) == spec.venues.end()) {
      continue;
    }
    VenueInfo venue{.id = exchange->id, .symbols = {}};
    for (const scenario::Symbol* symbol : scenario.symbols_of(*exchange)) {
      venue.symbols.push_back(symbol->name);
      const bool known = std::any_of(config.symbols.begin(), config.symbols.end(),
                                     [&](const SymbolInfo& s) { return s.name == symbol->name; });
      if (known) continue;
      config.symbols.push_back({.name = symbol->name,
                                .reference_ticks = symbol->reference_price_ticks,
                                .cents_per_tick_lot = symbol->cents_per_tick_lot});
      FundamentalParams fundamental;
      fundamental.reference_ticks = symbol->reference_price_ticks;
      fundamental.step_ms = std::max<std::int64_t>(1, scenario.time_step_ms);
      for (const auto& [name, market] : scenario.markets) {
        if (market.find_symbol(symbol->name) != nullptr) {
          fundamental.volatility_ppm = market.volatility_ppm;
          volatility_ppm = std::max(volatility_ppm, market.volatility_ppm);
        }
      }
      config.fundamentals.push_back(fundamental);
    }
    if (!risk_set && exchange->exchange) {
      const auto& risk = exchange->exchange->risk;
      config.risk.max_order_lots = risk.max_order_quantity_lots;
      config.risk.max_position_lots = risk.max_position_lots;
      config.risk.max_open_orders = std::min<std::uint32_t>(risk.max_open_orders, 200);
      risk_set = true;
    }
    config.venues.push_back(std::move(venue));
  }
  if (config.venues.empty()) {
    return std::unexpected("agent '" + node->id + "' has no exchange to trade on");
  }

  const Params p(spec);
  setup.reaction_time_us = spec.reaction_time_us;
  setup.information_sharing = p.boolean("information_sharing", false);
  const std::string& s = spec.strategy;
  if (s == "noise") {
    setup.strategy = std::make_unique<NoiseTrader>(
        NoiseParams{.order_interval_ms = p.ms("order_interval_ms", 1000),
                    .quantity_lots_max = p.integer("quantity_lots_max", 10),
                    .price_range_ticks = p.integer("price_range_ticks", 10),
                    .order_lifetime_ms = 10 * p.ms("order_interval_ms", 1000)});
  } else if (s == "value") {
    ValueParams params{.order_interval_ms = p.ms("order_interval_ms", 1000),
                       .quantity_lots_max = p.integer("quantity_lots_max", 10),
                       .observation_noise_ticks = {},
                       .mean_reversion = p.number("mean_reversion_rate", 0),
                       .volatility_ppm = volatility_ppm};
    // observation_noise is in the symbol's currency: each symbol's tick size turns it into ticks.
    const double noise = p.number("observation_noise", 0.5);
    for (const auto& [name, market] : scenario.markets) {
      for (const scenario::Symbol& symbol : market.symbols) {
        params.observation_noise_ticks[symbol.name] = noise / to_double(symbol.tick_size);
      }
    }
    setup.strategy = std::make_unique<ValueTrader>(std::move(params));
  } else if (s == "market_maker") {
    const std::int64_t limit = p.integer("position_limit_lots", 1000);
    setup.strategy = std::make_unique<MarketMaker>(
        MarketMakerParams{.spread_ticks = p.integer("spread_ticks", 4),
                          .quote_quantity_lots = p.integer("quote_quantity_lots", 10),
                          .risk_aversion = p.number("risk_aversion", 0.1),
                          .refresh_ms = p.ms("refresh_ms", 1000),
                          .position_limit_lots = limit});
    // Its quotes may not grow the position beyond the limit, so the trader's limit has room for
    // one more quote on the side that reduces it.
    config.risk.max_position_lots =
        std::min(config.risk.max_position_lots, limit + 2 * p.integer("quote_quantity_lots", 10));
  } else if (s == "momentum" || s == "mean_reversion") {
    const bool momentum = s == "momentum";
    setup.strategy = std::make_unique<WindowTrader>(
        momentum ? WindowTrader::Kind::momentum : WindowTrader::Kind::mean_reversion,
        WindowParams{.window = p.integer(momentum ? "momentum_window" : "window", 20),
                     .threshold = p.number(momentum ? "momentum_threshold" : "threshold", 0.02),
                     .confidence_threshold = p.number("confidence_threshold", 0.7),
                     .quantity_lots = p.integer("quantity_lots", 10),
                     .sample_interval_ms = p.ms("sample_interval_ms", 1000),
                     .share_signals = setup.information_sharing});
  } else if (s == "arbitrage") {
    setup.strategy = std::make_unique<Arbitrageur>(
        ArbitrageParams{.min_profit = p.number("min_profit_threshold", 0.001),
                        .max_holding_ms = p.ms("max_holding_time", 300'000),
                        .quantity_lots = p.integer("quantity_lots", 10),
                        .fee_ticks = p.integer("fee_ticks", 0),
                        .volatility_ppm = volatility_ppm,
                        .interval_ms = 100});
  }
  return setup;
}

}  // namespace mkt::agents
