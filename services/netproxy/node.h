#pragma once
// The assembly of the proxy node: what main.cpp runs once the frame has parsed the flags.

#include "mkt/runtime/service_main.h"

namespace mkt::netproxy {

// Builds the link model from the scenario, serves CONNECT, the control API (gRPC and JSON) and
// the metrics, runs the scenario's timed disruptions, until SIGINT or SIGTERM. The result is the
// exit code.
int run_node(runtime::ServiceContext& context);

}  // namespace mkt::netproxy
