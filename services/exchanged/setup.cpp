#include "setup.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "mkt/core/ids.h"

namespace mkt::exchanged {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

std::expected<VenueSetup, std::string> venue_setup(const scenario::Scenario& scenario,
                                                   const scenario::Node& node,
                                                   const std::vector<accounts::AccountKey>& keys) {
  if (node.role != scenario::Role::exchange || !node.exchange) {
    return std::unexpected(fmt::format("node '{}' is not an exchange (its role is {})", node.id,
                                       scenario::to_string(node.role)));
  }
  VenueSetup setup;
  exchange::VenueConfig& config = setup.config;
  config.exchange_id = node.id;
  config.risk = {node.exchange->risk.max_order_quantity_lots, node.exchange->risk.max_position_lots,
                 node.exchange->risk.max_open_orders};
  setup.orders_per_second = node.exchange->risk.orders_per_second;
  setup.order_burst = node.exchange->risk.order_burst;
  setup.unsettled_trades_max = node.exchange->risk.unsettled_trades_max;
  setup.symbols.set_exchange_id(node.id);
  for (const scenario::Symbol* symbol : scenario.symbols_of(node)) {
    config.symbols.push_back(
        {symbol->name, symbol->cents_per_tick_lot, symbol->reference_price_ticks});
    auto& spec = *setup.symbols.add_symbols();
    spec.set_symbol(symbol->name);
    spec.set_tick_size(symbol->tick_size.to_string());
    spec.set_lot_size(symbol->lot_size.to_string());
    spec.set_cash_per_tick_lot(symbol->cents_per_tick_lot);
    spec.set_reference_price_ticks(symbol->reference_price_ticks);
  }
  if (config.symbols.empty()) {
    return std::unexpected(fmt::format("exchange '{}' lists no symbols", node.id));
  }
  for (const scenario::Node* agent : scenario.nodes_with_role(scenario::Role::agent)) {
    const auto& venues = agent->agent->venues;
    if (std::find(venues.begin(), venues.end(), node.id) != venues.end()) {
      config.accounts.push_back({agent->id, agent->agent->initial_balance_cents});
    }
  }
  auto known = [&](const std::string& id) {
    return std::any_of(config.accounts.begin(), config.accounts.end(),
                       [&](const auto& a) { return a.id == id; });
  };
  for (const accounts::AccountKey& key : keys) {
    if (!known(key.account)) config.accounts.push_back({key.account, 0});
  }
  for (exchange::AccountId a = 0; a < config.accounts.size(); ++a) {
    for (const accounts::AccountKey& key : keys) {
      if (key.account == config.accounts[a].id) setup.account_by_key.emplace(key.api_key, a);
    }
  }
  return setup;
}

std::string manifest_of(const exchange::VenueConfig& config) {
  std::string out = "netmarket exchange journal manifest v1\n";
  out += "exchange " + config.exchange_id + "\n";
  for (const auto& symbol : config.symbols) out += "symbol " + symbol.name + "\n";
  for (const auto& account : config.accounts) out += "account " + account.id + "\n";
  return out;
}

std::string manifest_mismatch(const std::string& recorded, const std::string& current) {
  const auto old_lines = lines_of(recorded);
  const auto new_lines = lines_of(current);
  for (std::size_t i = 0; i < old_lines.size(); ++i) {
    if (i >= new_lines.size()) {
      return fmt::format("the journal was written with '{}', which this venue lacks", old_lines[i]);
    }
    if (old_lines[i] != new_lines[i]) {
      return fmt::format("line {} of the journal's manifest is '{}' but this venue has '{}'", i + 1,
                         old_lines[i], new_lines[i]);
    }
  }
  for (std::size_t i = old_lines.size(); i < new_lines.size(); ++i) {
    if (!new_lines[i].starts_with("account ")) {
      return fmt::format("this venue adds '{}'; only accounts may be added to a journal's venue",
                         new_lines[i]);
    }
  }
  return {};
}

}  // namespace mkt::exchanged
