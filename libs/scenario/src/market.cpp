// Markets: symbols, reference prices on the tick grid, volatility and correlations.
#include <cmath>

#include "mkt/core/ids.h"
#include "sections.h"

namespace mkt::scenario::detail {
namespace {

constexpr core::Decimal cent{1, 2};

// True when the matrix (ppm, unit diagonal) is positive semi-definite: a Cholesky factorisation
// that tolerates zero pivots (perfectly correlated symbols) but not negative ones.
bool is_correlation_matrix(const std::vector<std::vector<double>>& m) {
  const std::size_t n = m.size();
  std::vector<std::vector<double>> l(n, std::vector<double>(n, 0.0));
  constexpr double tolerance = 1e-9;
  for (std::size_t j = 0; j < n; ++j) {
    double pivot = m[j][j];
    for (std::size_t k = 0; k < j; ++k) pivot -= l[j][k] * l[j][k];
    if (pivot < -tolerance) return false;
    l[j][j] = pivot > tolerance ? std::sqrt(pivot) : 0.0;
    for (std::size_t i = j + 1; i < n; ++i) {
      double v = m[i][j];
      for (std::size_t k = 0; k < j; ++k) v -= l[i][k] * l[j][k];
      if (l[j][j] == 0.0) {
        if (std::fabs(v) > 1e-6) return false;
      } else {
        l[i][j] = v / l[j][j];
      }
    }
  }
  return true;
}

void read_correlations(const MapReader& map, Market& market) {
  Diagnostics& d = map.diagnostics();
  const YAML::Node node = map.child("correlations");
  if (!node.IsDefined()) return;
  if (!node.IsMap()) {
    d.error(node, map.path_of("correlations"), "expected a mapping of symbol pairs");
    return;
  }
  std::set<std::string> names;
  for (const auto& s : market.symbols) names.insert(s.name);
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string path = map.path_of("correlations") + "." + key;
    auto pair = split_pair(key, '_', names);
    if (!pair || pair->first == pair->second) {
      d.error(entry.first, path,
              "expected two different symbols of this market joined by '_' (symbols: " +
                  one_of({names.begin(), names.end()}) + ")");
      continue;
    }
    if (pair->second < pair->first) std::swap(pair->first, pair->second);
    if (auto v = read_scaled(d, entry.second, path, 6, -1'000'000, 1'000'000)) {
      market.correlations_ppm[*pair] = static_cast<std::int32_t>(*v);
    }
  }
  const std::size_t n = market.symbols.size();
  std::vector<std::vector<double>> m(n, std::vector<double>(n, 0.0));
  for (std::size_t i = 0; i < n; ++i) {
    m[i][i] = 1.0;
    for (std::size_t j = 0; j < n; ++j) {
      auto a = market.symbols[i].name;
      auto b = market.symbols[j].name;
      if (b < a) std::swap(a, b);
      auto it = market.correlations_ppm.find({a, b});
      if (i != j && it != market.correlations_ppm.end()) m[i][j] = it->second / 1e6;
    }
  }
  if (!is_correlation_matrix(m)) {
    d.error(node, map.path_of("correlations"),
            "these correlations cannot hold together (the matrix is not positive semi-definite)");
  }
}

// Sets reference prices from initial_price (all symbols) or initial_prices (each symbol).
void read_prices(const MapReader& map, Market& market) {
  Diagnostics& d = map.diagnostics();
  const bool one = map.has("initial_price");
  const bool each = map.has("initial_prices");
  if (one == each) {
    d.error(map.node(), map.path(), "give exactly one of initial_price or initial_prices");
    return;
  }
  auto set_price = [&](Symbol& symbol, const YAML::Node& node, const std::string& path) {
    auto price = read_decimal(d, node, path);
    if (!price) return;
    if (price->mantissa <= 0) {
      d.error(node, path, "a price must be positive");
      return;
    }
    auto ticks = core::divide_exact(*price, symbol.tick_size);
    if (!ticks) {
      d.error(node, path,
              "price " + price->to_string() + " is not a multiple of the tick size " +
                  symbol.tick_size.to_string());
      return;
    }
    symbol.reference_price_ticks = *ticks;
  };
  if (one) {
    // Every symbol of a market shares its grid, so one check serves all.
    if (market.symbols.empty()) return;
    set_price(market.symbols[0], map.child("initial_price"), map.path_of("initial_price"));
    for (auto& s : market.symbols)
      s.reference_price_ticks = market.symbols[0].reference_price_ticks;
    return;
  }
  const YAML::Node prices = map.child("initial_prices");
  if (!prices.IsMap()) {
    d.error(prices, map.path_of("initial_prices"), "expected a mapping of symbol to price");
    return;
  }
  std::set<std::string> seen;
  for (const auto& entry : prices) {
    const std::string name = entry.first.Scalar();
    const std::string path = map.path_of("initial_prices") + "." + name;
    Symbol* symbol = nullptr;
    for (auto& s : market.symbols) {
      if (s.name == name) symbol = &s;
    }
    if (!symbol) {
      d.error(entry.first, path, "'" + name + "' is not among this market's symbols");
      continue;
    }
    seen.insert(name);
    set_price(*symbol, entry.second, path);
  }
  for (const auto& s : market.symbols) {
    if (!seen.count(s.name))
      d.error(prices, map.path_of("initial_prices"), "no price for " + s.name);
  }
}

}  // namespace

Market read_market(Diagnostics& d, const YAML::Node& node, const std::string& path,
                   const std::string& name) {
  MapReader map(d, node, path,
                {"symbols", "initial_price", "initial_prices", "tick_size", "lot_size",
                 "volatility", "correlations", "order_book_depth"});
  Market market;
  market.name = name;
  if (!map.valid()) return market;
  const auto tick = map.decimal("tick_size").value_or(core::Decimal{1, 2});
  const auto lot = map.decimal("lot_size").value_or(core::Decimal{1, 0});
  bool grid_ok = true;
  for (const auto& [key, value] : {std::pair{"tick_size", tick}, std::pair{"lot_size", lot}}) {
    if (value.mantissa <= 0) {
      d.error(map.child(key), map.path_of(key), "must be positive");
      grid_ok = false;
    }
  }
  std::int64_t cents = 0;
  if (grid_ok) {
    const auto product = core::multiply(tick, lot);
    const auto per_cent =
        product ? core::divide_exact(*product, cent)
                : std::expected<std::int64_t, core::DecimalError>(std::unexpected(product.error()));
    if (!per_cent) {
      d.error(map.node(), map.path(),
              "tick_size x lot_size must be a whole number of cents (" + tick.to_string() + " x " +
                  lot.to_string() + " is not)");
    } else {
      cents = *per_cent;
    }
  }
  const auto names = map.text_list("symbols", true);
  if (map.has("symbols") && names.empty())
    d.error(map.child("symbols"), map.path_of("symbols"), "no symbols");
  if (names.size() > symbols_per_market_max) {
    d.error(map.child("symbols"), map.path_of("symbols"),
            "more than " + std::to_string(symbols_per_market_max) + " symbols");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string item = map.path_of("symbols") + "[" + std::to_string(i) + "]";
    if (!core::is_valid_symbol(names[i])) {
      d.error(map.child("symbols")[i], item,
              "'" + names[i] +
                  "' is not a valid symbol (1-16 of A-Z, 0-9, '_', '.', starting with a letter)");
    } else if (!seen.insert(names[i]).second) {
      d.error(map.child("symbols")[i], item, "symbol '" + names[i] + "' listed twice");
    }
    market.symbols.push_back(Symbol{names[i], tick, lot, 0, cents});
  }
  if (grid_ok) read_prices(map, market);
  market.volatility_ppm =
      static_cast<std::uint32_t>(map.scaled_or("volatility", 6, 0, 0, 10'000'000));
  market.order_book_depth =
      static_cast<std::uint32_t>(map.integer_or("order_book_depth", 10, 1, 1000));
  read_correlations(map, market);
  return market;
}

RiskLimits read_risk(Diagnostics& d, const YAML::Node& node, const std::string& path) {
  RiskLimits risk;
  if (!node.IsDefined()) return risk;
  MapReader map(d, node, path,
                {"max_order_quantity_lots", "max_position_lots", "max_open_orders",
                 "orders_per_second", "order_burst", "unsettled_trades_max"});
  risk.max_order_quantity_lots =
      map.integer_or("max_order_quantity_lots", risk.max_order_quantity_lots, 1, 1'000'000'000'000);
  risk.max_position_lots =
      map.integer_or("max_position_lots", risk.max_position_lots, 1, 1'000'000'000'000);
  risk.max_open_orders = static_cast<std::uint32_t>(
      map.integer_or("max_open_orders", risk.max_open_orders, 1, 1'000'000));
  risk.orders_per_second = static_cast<std::uint32_t>(
      map.integer_or("orders_per_second", risk.orders_per_second, 0, 1'000'000));
  risk.order_burst =
      static_cast<std::uint32_t>(map.integer_or("order_burst", risk.order_burst, 1, 1'000'000));
  risk.unsettled_trades_max = static_cast<std::uint32_t>(
      map.integer_or("unsettled_trades_max", risk.unsettled_trades_max, 1, 10'000'000));
  return risk;
}

}  // namespace mkt::scenario::detail
