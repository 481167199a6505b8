// How an exchange is set up from its scenario and files: the venue's symbols and accounts (scenario
// agents first, in order, then the file's others), and the manifest rule that lets a journal be
// replayed only by a venue with the same numbering (accounts may be appended).

#include "setup.h"

#include <catch2/catch_test_macros.hpp>

#include "harness.h"

using namespace mkt::exchanged;

TEST_CASE("the venue: scenario symbols and agents, then the file's other accounts") {
  auto scenario = mkt::runtime::load_scenario_file(NETMARKET_EXCHANGED_TESTS "/venue.yaml");
  REQUIRE(scenario);
  const auto keys =
      mkt::accounts::parse("zed 0123456789abcdef-z\nbob 0123456789abcdef-b\n", "a.txt");
  const auto setup = venue_setup(*scenario, *scenario->find_node("ex-1"), *keys);
  REQUIRE(setup);
  const auto& config = setup->config;
  REQUIRE(config.accounts.size() == 3);
  CHECK(config.accounts[0].id == "alice");
  CHECK(config.accounts[0].initial_cash == 10'000'000);
  CHECK(config.accounts[1].id == "bob");
  CHECK(config.accounts[2].id == "zed");
  CHECK(config.accounts[2].initial_cash == 0);
  CHECK(setup->account_by_key.at("0123456789abcdef-b") == 1);
  CHECK(setup->account_by_key.size() == 2);  // alice has an account but no key
  REQUIRE(config.symbols.size() == 2);
  CHECK(config.symbols[1].name == "STOCK_B");
  CHECK(config.symbols[1].reference_price_ticks == 5000);
  CHECK(config.risk.max_open_orders == 100);
  CHECK(venue_setup(*scenario, *scenario->find_node("alice"), {}).error() ==
        "node 'alice' is not an exchange (its role is agent)");
}

TEST_CASE("a journal's manifest accepts appended accounts and nothing else") {
  mkt::exchange::VenueConfig config;
  config.exchange_id = "ex-1";
  config.symbols = {{"AAA", 1, 100}};
  config.accounts = {{"alice", 0}, {"bob", 0}};
  const std::string recorded = manifest_of(config);
  CHECK(manifest_mismatch(recorded, recorded).empty());
  config.accounts.push_back({"carol", 0});
  CHECK(manifest_mismatch(recorded, manifest_of(config)).empty());
  config.accounts = {{"bob", 0}, {"alice", 0}};
  CHECK(manifest_mismatch(recorded, manifest_of(config)) ==
        "line 4 of the journal's manifest is 'account alice' but this venue has 'account bob'");
  config.accounts = {{"alice", 0}};
  CHECK(manifest_mismatch(recorded, manifest_of(config)) ==
        "the journal was written with 'account bob', which this venue lacks");
  config.accounts = {{"alice", 0}, {"bob", 0}};
  config.symbols.push_back({"BBB", 1, 100});
  CHECK(manifest_mismatch(recorded, manifest_of(config)) ==
        "line 4 of the journal's manifest is 'account alice' but this venue has 'symbol BBB'");
  const std::string symbols_only = "netmarket exchange journal manifest v1\nexchange ex-1\n";
  CHECK(manifest_mismatch(symbols_only, manifest_of(config)) ==
        "this venue adds 'symbol AAA'; only accounts may be added to a journal's venue");
}
