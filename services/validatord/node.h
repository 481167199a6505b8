#pragma once
// The assembly of a validator node: what main.cpp runs once the frame has parsed the flags.

#include "mkt/runtime/service_main.h"

namespace mkt::validatord {

// Recovers the write-ahead log and snapshot, builds the validator and its servers, and runs until
// SIGINT or SIGTERM. The result is the exit code.
int run_node(runtime::ServiceContext& context);

}  // namespace mkt::validatord
