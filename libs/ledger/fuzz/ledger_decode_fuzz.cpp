// The ledger's batch decoder, on a Raft entry's data: anything is a batch or an error, and a batch
// it takes encodes back to bytes that decode to the same batch.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mkt/ledger/ledger.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto batch = mkt::ledger::decode({reinterpret_cast<const char*>(data), size});
  if (!batch) return 0;
  const std::string once = mkt::ledger::encode(*batch);
  const auto again = mkt::ledger::decode(once);
  if (!again || mkt::ledger::encode(*again) != once) __builtin_trap();
  return 0;
}
