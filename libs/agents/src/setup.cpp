#include "mkt/agents/setup.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "mkt/agents/strategies.h"

namespace mkt::agents {
namespace {

double to_double(const core::Decimal& d) {
  return static_cast<double>(d.mantissa) / std::pow(10.0, d.scale);
}

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
    return to_double(p->decimal);
  }
  bool boolean(const std::string& key, bool fallback) const {
    const auto* p = find(key);
    return p ? p->boolean : fallback;
  }
  std::string text(const std::string& key, const std::string& fallback) const {
    const auto* p = find(key);
    return p ? p->text : fallback;
  }
  std::vector<std::string> list(const std::string& key) const {
    const auto* p = find(key);
    return p ? p->list : std::vector<std::string>{};
  }

 private:
  const scenario::Param* find(const std::string& key) const {
    const auto it = spec_.params.find(key);
    return it == spec_.params.end() ? nullptr : &it->second;
  }
  const scenario::AgentSpec& spec_;
};

// What a strategy is built from: its parameters, the scenario, the market's volatility; it may
// tighten the trader's configuration (the market maker's position limit).
struct Build {
  const Params& p;
  const scenario::Scenario& scenario;
  std::uint32_t volatility_ppm;
  bool information_sharing;
  TraderConfig& config;
};
using Make = std::unique_ptr<Strategy> (*)(const Build&);

// How the agent sees the fundamental: observation_noise is in the symbol's currency, each
// symbol's tick turns it into ticks.
ValueSight sight(const Build& b) {
  ValueSight out{
      .observation_noise_ticks = {}, .default_noise_ticks = 50, .volatility_ppm = b.volatility_ppm};
  const double noise = b.p.number("observation_noise", 0.5);
  for (const auto& [name, market] : b.scenario.markets) {
    for (const scenario::Symbol& symbol : market.symbols) {
      out.observation_noise_ticks[symbol.name] = noise / to_double(symbol.tick_size);
    }
  }
  return out;
}

// Momentum and mean reversion: the same parameters but for the names of two (the reference
// file's momentum_window and momentum_threshold).
std::unique_ptr<Strategy> window_trader(const Build& b, WindowTrader::Kind kind,
                                        const std::string& window, const std::string& threshold) {
  return std::make_unique<WindowTrader>(
      kind, WindowParams{.window = b.p.integer(window, 20),
                         .threshold = b.p.number(threshold, 0.02),
                         .confidence_threshold = b.p.number("confidence_threshold", 0.7),
                         .quantity_lots = b.p.integer("quantity_lots", 10),
                         .sample_interval_ms = b.p.ms("sample_interval_ms", 1000),
                         .share_signals = b.information_sharing});
}

// Every strategy agentd runs, by its scenario name: the one list of them.
const std::map<std::string_view, Make>& makers() {
  static const std::map<std::string_view, Make> table = {
      {"noise",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         const std::int64_t interval = b.p.ms("order_interval_ms", 1000);
         return std::make_unique<NoiseTrader>(
             NoiseParams{.order_interval_ms = interval,
                         .quantity_lots_max = b.p.integer("quantity_lots_max", 10),
                         .price_range_ticks = b.p.integer("price_range_ticks", 10),
                         .order_lifetime_ms = 10 * interval});
       }},
      {"value",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         return std::make_unique<ValueTrader>(
             ValueParams{.order_interval_ms = b.p.ms("order_interval_ms", 1000),
                         .quantity_lots_max = b.p.integer("quantity_lots_max", 10),
                         .sight = sight(b),
                         .mean_reversion = b.p.number("mean_reversion_rate", 0)});
       }},
      {"market_maker",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         const std::int64_t limit = b.p.integer("position_limit_lots", 1000);
         const std::int64_t quote = b.p.integer("quote_quantity_lots", 10);
         // Its quotes may not grow the position beyond the limit; the trader's limit leaves room
         // for a quote on each side.
         b.config.risk.max_position_lots =
             std::min(b.config.risk.max_position_lots, limit + 2 * quote);
         return std::make_unique<MarketMaker>(
             MarketMakerParams{.spread_ticks = b.p.integer("spread_ticks", 4),
                               .quote_quantity_lots = quote,
                               .risk_aversion = b.p.number("risk_aversion", 0.1),
                               .refresh_ms = b.p.ms("refresh_ms", 1000),
                               .position_limit_lots = limit});
       }},
      {"momentum",
       [](const Build& b) {
         return window_trader(b, WindowTrader::Kind::momentum, "momentum_window",
                              "momentum_threshold");
       }},
      {"mean_reversion",
       [](const Build& b) {
         return window_trader(b, WindowTrader::Kind::mean_reversion, "window", "threshold");
       }},
      {"arbitrage",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         return std::make_unique<Arbitrageur>(
             ArbitrageParams{.min_profit = b.p.number("min_profit_threshold", 0.001),
                             .max_holding_ms = b.p.ms("max_holding_time", 300'000),
                             .quantity_lots = b.p.integer("quantity_lots", 10),
                             .fee_ticks = b.p.integer("fee_ticks", 0),
                             .volatility_ppm = b.volatility_ppm,
                             .interval_ms = 100});
       }},
      {"coordinated",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         return std::make_unique<CoordinatedTrader>(CoordinatedParams{
             .interval_ms = b.p.ms("decision_interval_ms", 500),
             .confidence_threshold = b.p.number("coordination_threshold", 0.8),
             .quantity_lots = b.p.integer("quantity_lots", 5),
             .sight = sight(b),
             .coordination = {.group_max = static_cast<std::uint32_t>(std::clamp<std::int64_t>(
                                  b.p.integer("max_coordination_group", 4), 2, 64)),
                              .timeout_ms = b.p.ms("proposal_timeout_ms", 500)}});
       }},
      {"adaptive",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         // Each strategy with its defaults (the adaptive agent's strategy_config holds the
         // bandit's parameters only).
         std::vector<std::unique_ptr<Strategy>> arms;
         for (const auto& name : b.p.list("strategies")) arms.push_back(makers().at(name)(b));
         const bool exp3 = b.p.text("algorithm", "ucb1") == "exp3";
         return std::make_unique<AdaptiveTrader>(
             AdaptiveParams{
                 .algorithm = exp3 ? Bandit::Algorithm::exp3 : Bandit::Algorithm::ucb1,
                 .exploration = b.p.number("exploration", exp3 ? 0.1 : 1.41421356),
                 .episode_ms = std::max<std::int64_t>(1, b.p.ms("episode_ms", 10'000)),
                 .reward_scale_cents = std::max(1.0, b.p.number("reward_scale", 10) * 100)},
             std::move(arms));
       }},
      {"information_broker",
       [](const Build& b) -> std::unique_ptr<Strategy> {
         return std::make_unique<InformationBroker>(
             BrokerTerms{.quality_threshold = b.p.number("quality_threshold", 0.8),
                         .information_value = b.p.number("information_value", 0.001),
                         .subscribers_max = static_cast<std::uint32_t>(std::clamp<std::int64_t>(
                             b.p.integer("subscribers_max", 64), 0, 10'000))});
       }},
  };
  return table;
}

}  // namespace

std::expected<void, std::string> strategy_supported(std::string_view strategy) {
  if (makers().contains(strategy)) return {};
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
  const Params p(spec);
  for (const auto& arm : p.list("strategies")) {
    // The peer protocols are set up for the agent's own strategy, not for one it may switch to.
    if (arm == "coordinated" || arm == "information_broker" || !makers().contains(arm)) {
      return std::unexpected("agent '" + node->id +
                             "': an adaptive agent chooses among strategies that trade alone, "
                             "not " +
                             arm);
    }
  }

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

  setup.reaction_time_us = spec.reaction_time_us;
  setup.information_sharing = p.boolean("information_sharing", false);
  for (const scenario::Node& other : scenario.nodes) {
    if (!other.agent || other.id == node->id) continue;
    const std::string& strategy = other.agent->strategy;
    const bool broker = strategy == "information_broker";
    if (broker) setup.brokers.push_back(other.id);
    if (strategy == "coordinated") setup.coalition.push_back(other.id);
    if (broker || (strategy_supported(strategy) &&
                   Params(*other.agent).boolean("information_sharing", false))) {
      setup.gossip_peers.push_back(other.id);
    }
  }
  std::sort(setup.coalition.begin(), setup.coalition.end());
  setup.strategy =
      makers().at(spec.strategy)(Build{.p = p,
                                       .scenario = scenario,
                                       .volatility_ppm = volatility_ppm,
                                       .information_sharing = setup.information_sharing,
                                       .config = config});
  return setup;
}

}  // namespace mkt::agents
