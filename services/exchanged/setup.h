#pragma once
// What an exchange is made of, from its scenario and the files it is given: the venue's symbols,
// accounts and risk limits, the API keys of the accounts, and the manifest that ties a journal to
// the account and symbol numbering it was written with.

#include <expected>
#include <string>
#include <unordered_map>
#include <vector>

#include "market/exchange/v1/exchange.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/exchange/venue.h"
#include "mkt/scenario/scenario.h"

namespace mkt::exchanged {

struct VenueSetup {
  exchange::VenueConfig config;
  std::uint32_t orders_per_second = 0;  // per account; 0: no limit
  std::uint32_t order_burst = 1;
  std::uint32_t unsettled_trades_max = 0;  // 0: no bound
  std::unordered_map<std::string, exchange::AccountId> account_by_key;
  market::exchange::v1::ListSymbolsResponse symbols;
};

// The venue of exchange node `node`: its markets' symbols in scenario order, then the accounts of
// the scenario's agents that trade here (with their initial balance) in scenario order, then the
// accounts file's other accounts (with no cash), in file order. An agent without a key in the file
// has an account but cannot log in.
std::expected<VenueSetup, std::string> venue_setup(const scenario::Scenario& scenario,
                                                   const scenario::Node& node,
                                                   const std::vector<accounts::AccountKey>& keys);

// The manifest is the text form of the numbering a journal depends on (exchange id, symbols,
// accounts in index order). A journal may be replayed by a venue whose manifest is the same, or
// the same with accounts appended; anything else would give its records to the wrong accounts.
std::string manifest_of(const exchange::VenueConfig& config);
// Empty when `current` may replay a journal written under `recorded`, else why not.
std::string manifest_mismatch(const std::string& recorded, const std::string& current);

}  // namespace mkt::exchanged
