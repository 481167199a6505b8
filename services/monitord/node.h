#pragma once
// The monitor node: the collector on a strand, its HTTP API, and the Telemetry service its
// alerts are published on.

#include "mkt/runtime/service_main.h"

namespace mkt::monitord {

int run_node(runtime::ServiceContext& context);

}  // namespace mkt::monitord
