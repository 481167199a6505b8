#pragma once
// The assembly of an exchange node: what main.cpp runs once the frame has parsed the flags.

#include "mkt/runtime/service_main.h"

namespace mkt::exchanged {

// Reads the accounts file, checks and replays the journal, builds the venue, the service, the
// ledger reporter and the servers, and runs until SIGINT or SIGTERM. The result is the exit code.
int run_node(runtime::ServiceContext& context);

}  // namespace mkt::exchanged
