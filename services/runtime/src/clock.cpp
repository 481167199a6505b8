#include "mkt/runtime/clock.h"

namespace mkt::runtime {

const Clock& system_clock() {
  static const Clock clock;
  return clock;
}

}  // namespace mkt::runtime
