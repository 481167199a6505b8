#pragma once
// A validator's durable Raft state in a directory: `wal` (a write-ahead log of entries and hard
// states, checksummed frames from mkt/core/codec.h) and `snapshot` (the newest snapshot, replaced
// atomically).
//
// save() appends what a Ready says to persist, and syncs before it returns when the Ready must be
// durable (raft::Ready::must_sync), so the Ready's messages may then be sent. compact() writes a
// new snapshot and rewrites the log with only what follows it (write beside, sync, rename), so a
// crash at any point leaves an old or a new state that recovers. On open, a torn last frame is cut
// off (the crash happened while writing it, and nothing in it was acknowledged); damage anywhere
// else refuses to start.

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mkt/raft/node.h"
#include "mkt/runtime/files.h"

namespace mkt::validatord {

struct StorageOptions {
  std::string dir;
  runtime::SyncMode sync = runtime::SyncMode::fsync;
};

struct RecoveryStats {
  std::size_t records = 0;
  std::size_t torn_bytes_dropped = 0;
};

// Replays a log's frames into `restored` (after its snapshot, which must be set already when
// there is one): entries, hard states and the commit steps. Returns where the good frames end (a
// torn last frame is not damage), or what is damaged before the end, naming `path`. RaftStorage
// opens with it; public for the fuzz target.
std::expected<std::size_t, std::string> replay_wal(const std::string& path, std::string_view bytes,
                                                   raft::Restore& restored, RecoveryStats& stats);

class RaftStorage {
 public:
  // Opens (creating) the directory and reads what it holds into `restored`.
  static std::expected<std::unique_ptr<RaftStorage>, std::string> open(StorageOptions options,
                                                                       raft::Restore& restored,
                                                                       RecoveryStats& stats);
  ~RaftStorage();
  RaftStorage(const RaftStorage&) = delete;
  RaftStorage& operator=(const RaftStorage&) = delete;

  // Persists a Ready's snapshot, entries and hard state; durably when it must_sync.
  std::expected<void, std::string> save(const raft::Ready& ready);
  // Whether save(ready) will sync: false for a Ready that need not be durable, and for every
  // Ready when the WAL is not synced at all (--wal-sync none).
  bool syncs(const raft::Ready& ready) const {
    return ready.must_sync && options_.sync == runtime::SyncMode::fsync;
  }
  // Replaces the snapshot and rewrites the log as `hard_state` plus `entries` (those after it),
  // keeping the commit steps (`marks`, after the snapshot) that date committed entries.
  std::expected<void, std::string> compact(const raft::Snapshot& snapshot,
                                           const raft::HardState& hard_state,
                                           std::span<const raft::Entry> entries,
                                           std::span<const raft::CommitMark> marks);
  std::uint64_t wal_bytes() const { return wal_bytes_; }

 private:
  RaftStorage(StorageOptions options, int fd, std::uint64_t bytes);
  std::expected<void, std::string> write_snapshot(const raft::Snapshot& snapshot);
  std::expected<void, std::string> rewrite_wal(const raft::HardState& hard_state,
                                               std::span<const raft::Entry> entries,
                                               std::span<const raft::CommitMark> marks);
  std::expected<void, std::string> append(const std::string& bytes, bool sync);

  StorageOptions options_;
  int fd_;
  std::uint64_t wal_bytes_;
  std::uint64_t preallocated_to_ = 0;  // where the last reservation started
  raft::HardState hard_state_;         // the last one persisted
};

}  // namespace mkt::validatord
