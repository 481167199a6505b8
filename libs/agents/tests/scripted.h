#pragma once
// A trader on scripted books, for the strategy and trader tests: two venues (ex-a, ex-b) listing
// ACME (reference 10,000 ticks, one cent per tick and lot).

#include <memory>
#include <utility>

#include "mkt/agents/trader.h"

namespace mkt::agents::testing {

inline constexpr std::int64_t second_ns = 1'000'000'000;

inline TraderConfig two_venues(AgentRisk risk = {}) {
  TraderConfig config;
  config.agent_id = "agent-1";
  config.venues = {{.id = "ex-a", .symbols = {"ACME"}}, {.id = "ex-b", .symbols = {"ACME"}}};
  config.symbols = {{.name = "ACME", .reference_ticks = 10'000, .cents_per_tick_lot = 1}};
  config.initial_cash_cents = 1'000'000;
  config.risk = risk;
  config.seed = 7;
  return config;
}

// Sets a venue's book to one level a side (0 leaves a side empty).
inline void set_book(Trader& trader, const char* venue, std::int64_t bid, std::int64_t ask,
                     std::int64_t lots = 100, std::int64_t last = 0) {
  std::vector<BookLevel> bids, asks;
  if (bid > 0) bids.push_back({bid, lots, 1});
  if (ask > 0) asks.push_back({ask, lots, 1});
  trader.book(venue, "ACME")->reset(1, std::move(bids), std::move(asks), last);
}

// Sends every order of an outbox and has the venue accept it at once.
inline void accept_all(Trader& trader, const Outbox& out, std::int64_t now_ns) {
  for (const auto& order : out.orders) {
    trader.sent(order.id, now_ns);
    trader.on_accepted(order.id, 1000 + order.id, now_ns, nullptr);
  }
  for (const auto& order : out.cancels) trader.on_cancelled(order.id);
}

}  // namespace mkt::agents::testing
