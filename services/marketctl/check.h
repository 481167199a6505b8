#pragma once
#include <ostream>

#include "mkt/runtime/options.h"

namespace mkt::marketctl {

// Loads the scenario and prints what it declares. Returns 0, or 1 with the diagnostics on `err`.
int check(const runtime::CommonOptions& options, std::ostream& out, std::ostream& err);

}  // namespace mkt::marketctl
