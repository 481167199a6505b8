#pragma once
// The assembly of an agent node: what main.cpp runs once the frame has parsed the flags.

#include "mkt/runtime/service_main.h"

namespace mkt::agentd {

// Sets the agent up from the scenario, finds its key and its venues, serves its peer service and
// trades until SIGINT or SIGTERM. The result is the exit code.
int run_node(runtime::ServiceContext& context);

}  // namespace mkt::agentd
