#include "mkt/core/invariant.h"

#include <cstdio>
#include <cstdlib>

namespace mkt::core {

void invariant_failed(const char* file, int line, const char* condition,
                      const char* message) noexcept {
  std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", file, line, message, condition);
  std::fflush(stderr);
  std::abort();
}

}  // namespace mkt::core
