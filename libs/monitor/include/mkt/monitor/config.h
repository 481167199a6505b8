#pragma once
// The rules' parameters from a scenario's monitoring section (and its consensus timing).

#include "mkt/monitor/rules.h"
#include "mkt/scenario/scenario.h"

namespace mkt::monitor {

RuleParams rule_params(const scenario::Scenario& scenario);
Hysteresis hysteresis(const scenario::Monitoring& monitoring);

}  // namespace mkt::monitor
