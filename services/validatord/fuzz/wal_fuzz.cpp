// A validator's write-ahead log, damaged or hostile, replayed as a restart does (after a snapshot
// at index 3, or none): it is refused with a reason, or what it restores starts a Raft node.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  mkt::raft::Restore restored;
  if (data[0] & 1) {
    restored.snapshot = mkt::raft::Snapshot{{3, 1, {1, 2, 3}}, "ledger"};
  }
  mkt::validatord::RecoveryStats stats;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const auto good = mkt::validatord::replay_wal("wal", bytes, restored, stats);
  if (!good) return 0;
  if (*good > bytes.size()) __builtin_trap();
  mkt::raft::Config config;
  config.id = 1;
  config.voters = {1, 2, 3};
  mkt::raft::Node node(config, restored);  // its invariants check what was restored
  return 0;
}
