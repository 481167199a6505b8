// The scenario loader on any text a user might hand it: a scenario or diagnostics, never a crash
// or an exception.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mkt/scenario/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto loaded =
      mkt::scenario::parse({reinterpret_cast<const char*>(data), size}, "fuzz.yaml");
  if (!loaded && loaded.error().diagnostics.empty()) __builtin_trap();  // refused, with a reason
  return 0;
}
