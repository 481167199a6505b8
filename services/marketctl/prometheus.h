#pragma once
// Prometheus's scrape configuration of a market, for users who run Prometheus: one job per role,
// one target per node with its node id and site as labels, scraped at the scenario's
// scrape_interval_seconds.

#include <map>
#include <string>
#include <string_view>

#include "mkt/runtime/run_folder.h"
#include "mkt/scenario/scenario.h"

namespace mkt::marketctl {

// `targets`: each node's metrics endpoint (host:port); nodes without one are left out.
// `command_line`: how the file was made, for its header.
std::string prometheus_config(const scenario::Scenario& scenario,
                              const std::map<std::string, std::string>& targets,
                              const std::string& command_line);

// Where a compose market's nodes serve their metrics, by service name ("ex-a:7001").
std::map<std::string, std::string> compose_metrics_targets(const scenario::Scenario& scenario);

// Where a local market's nodes serve them, from its run folder's state ("127.0.0.1:41235").
std::map<std::string, std::string> local_metrics_targets(const scenario::Scenario& scenario,
                                                         const runtime::RunState& state);

}  // namespace mkt::marketctl
