#pragma once
// An agent from its scenario: the trader's configuration (venues, symbols, cash, risk limits, the
// fundamental's parameters) and its strategy with the strategy_config parameters.

#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/agents/strategy.h"
#include "mkt/agents/trader.h"
#include "mkt/scenario/scenario.h"

namespace mkt::agents {

struct AgentSetup {
  TraderConfig config;
  std::unique_ptr<Strategy> strategy;
  std::int64_t reaction_time_us = 0;
  bool information_sharing = false;
  // Its peers among the scenario's agents (itself left out), by id:
  std::vector<std::string> gossip_peers;  // agentd agents that share information, and brokers
  std::vector<std::string> brokers;       // information brokers
  std::vector<std::string> coalition;     // the other coordinated agents, in id order
};

// Whether agentd runs a strategy yet; the reason when not.
std::expected<void, std::string> strategy_supported(std::string_view strategy);

// `epoch_ns`: the market's time 0, the same for every agent of a run.
std::expected<AgentSetup, std::string> agent_setup(const scenario::Scenario& scenario,
                                                   std::string_view node_id, std::int64_t epoch_ns);

}  // namespace mkt::agents
