// The proxy's first read from any client: a CONNECT request head, parsed and checked as the
// session does it. Whatever the bytes, the answer is a request or a refusal with a status.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto checked = mkt::netproxy::parse_connect({reinterpret_cast<const char*>(data), size});
  if (checked) {
    // A request it takes names a node and a host:port.
    if (checked->source.empty() || checked->port.empty()) __builtin_trap();
  } else if (checked.error().reason.empty() || checked.error().message.empty()) {
    __builtin_trap();
  }
  return 0;
}
