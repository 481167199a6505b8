#include "storage.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "mkt/core/codec.h"
#include "mkt/runtime/files.h"

namespace mkt::validatord {

namespace {

constexpr std::size_t wal_bytes_max = std::size_t{4} << 30;
constexpr std::size_t snapshot_bytes_max = std::size_t{2} << 30;
constexpr std::size_t frame_bytes_max = std::size_t{256} << 20;
// Blocks reserved ahead of the log's end, so a sync after an append rarely allocates (the file's
// size still grows with each write: the space is reserved with FALLOC_FL_KEEP_SIZE).
constexpr off_t preallocate_bytes = off_t{64} << 20;

void preallocate(int fd, std::uint64_t from) {
  // Best effort: a file system without fallocate is only slower.
  (void)::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), preallocate_bytes);
}

enum class Record : std::uint8_t { entry = 1, hard_state = 2 };

std::string system_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

void encode_entry(std::string& out, const raft::Entry& entry) {
  core::append_frame(out, [&](core::ByteWriter& w) {
    w.integer(static_cast<std::uint8_t>(Record::entry));
    w.integer(entry.term);
    w.integer(entry.index);
    w.integer(static_cast<std::uint8_t>(entry.type));
    w.text(entry.data);
  });
}

void encode_hard_state(std::string& out, const raft::HardState& state) {
  core::append_frame(out, [&](core::ByteWriter& w) {
    w.integer(static_cast<std::uint8_t>(Record::hard_state));
    w.integer(state.term);
    w.integer(state.vote);
    w.integer(state.commit);
    w.integer(state.commit_ns);
  });
}

std::string encode_snapshot(const raft::Snapshot& snapshot) {
  std::string out;
  core::append_frame(out, [&](core::ByteWriter& w) {
    w.integer(snapshot.meta.index);
    w.integer(snapshot.meta.term);
    w.integer(static_cast<std::uint32_t>(snapshot.meta.voters.size()));
    for (auto voter : snapshot.meta.voters) w.integer(voter);
    w.text(snapshot.data);
  });
  return out;
}

std::expected<std::optional<raft::Snapshot>, std::string> read_snapshot(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  auto bytes = runtime::read_file(path, snapshot_bytes_max);
  if (!bytes) return std::unexpected(bytes.error());
  core::FrameReader frames(*bytes, snapshot_bytes_max);
  std::string_view payload;
  if (frames.next(payload) != core::FrameReader::Status::ok) {
    return std::unexpected(path + ": damaged snapshot (" + frames.error() + ")");
  }
  core::ByteReader r(payload);
  raft::Snapshot snapshot;
  std::uint32_t voters = 0;
  bool ok = r.integer(snapshot.meta.index) && r.integer(snapshot.meta.term) && r.integer(voters);
  for (std::uint32_t i = 0; ok && i < voters; ++i) {
    raft::NodeId voter = 0;
    ok = r.integer(voter);
    snapshot.meta.voters.push_back(voter);
  }
  if (!ok || !r.text(snapshot.data) || !r.done()) {
    return std::unexpected(path + ": malformed snapshot");
  }
  return snapshot;
}

}  // namespace

std::expected<std::size_t, std::string> replay_wal(const std::string& path, std::string_view bytes,
                                                   raft::Restore& restored, RecoveryStats& stats) {
  core::FrameReader frames(bytes, frame_bytes_max);
  const std::uint64_t snapshot_index = restored.snapshot ? restored.snapshot->meta.index : 0;
  std::string_view payload;
  std::size_t good = 0;
  for (;;) {
    const auto status = frames.next(payload);
    if (status == core::FrameReader::Status::end || status == core::FrameReader::Status::torn) {
      good = status == core::FrameReader::Status::end ? bytes.size() : frames.offset();
      break;
    }
    if (status == core::FrameReader::Status::corrupt) {
      return std::unexpected(path + ": " + frames.error());
    }
    ++stats.records;
    core::ByteReader r(payload);
    Record type{};
    if (!r.enumeration(type, 3)) return std::unexpected(path + ": unknown record type");
    if (type == Record::hard_state) {
      raft::HardState& hs = restored.hard_state;
      hs.commit_ns = 0;  // absent from logs written before commit times were kept
      if (!r.integer(hs.term) || !r.integer(hs.vote) || !r.integer(hs.commit) ||
          (!r.done() && !r.integer(hs.commit_ns)) || !r.done()) {
        return std::unexpected(path + ": malformed hard state");
      }
      // Each rise of the commit index is a step that dates the entries it committed.
      auto& marks = restored.commit_marks;
      if (marks.empty() || hs.commit > marks.back().index)
        marks.push_back({hs.commit, hs.commit_ns});
      continue;
    }
    raft::Entry entry;
    if (!r.integer(entry.term) || !r.integer(entry.index) || !r.enumeration(entry.type, 2) ||
        !r.text(entry.data) || !r.done()) {
      return std::unexpected(path + ": malformed entry");
    }
    if (entry.index <= snapshot_index) continue;  // written before the snapshot was taken
    auto& entries = restored.entries;
    // A later entry at an index replaces what follows it there (a conflicting suffix).
    while (!entries.empty() && entries.back().index >= entry.index) entries.pop_back();
    const std::uint64_t expected = entries.empty() ? snapshot_index + 1 : entries.back().index + 1;
    if (entry.index != expected) {
      return std::unexpected(path + ": entry " + std::to_string(entry.index) + " where " +
                             std::to_string(expected) + " was expected");
    }
    entries.push_back(std::move(entry));
  }
  // The commit index recorded may be behind a snapshot restored after it, never past the log.
  raft::HardState& hs = restored.hard_state;
  hs.commit = std::max(hs.commit, snapshot_index);
  const std::uint64_t last = snapshot_index + restored.entries.size();
  if (hs.commit > last) {
    return std::unexpected(path + ": the commit index " + std::to_string(hs.commit) +
                           " is past the last entry, " + std::to_string(last));
  }
  return good;
}

std::expected<std::unique_ptr<RaftStorage>, std::string> RaftStorage::open(StorageOptions options,
                                                                           raft::Restore& restored,
                                                                           RecoveryStats& stats) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return std::unexpected(options.dir + ": " + ec.message());
  auto snapshot = read_snapshot(options.dir + "/snapshot");
  if (!snapshot) return std::unexpected(snapshot.error());
  restored = {};
  restored.snapshot = std::move(*snapshot);
  const std::string path = options.dir + "/wal";
  std::string bytes;
  if (std::filesystem::exists(path, ec)) {
    auto read = runtime::read_file(path, wal_bytes_max);
    if (!read) return std::unexpected(read.error());
    bytes = std::move(*read);
  }
  auto good = replay_wal(path, bytes, restored, stats);
  if (!good) return std::unexpected(good.error());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return std::unexpected(system_error(path));
  stats.torn_bytes_dropped = bytes.size() - *good;
  if (::ftruncate(fd, static_cast<off_t>(*good)) != 0 ||
      ::lseek(fd, static_cast<off_t>(*good), SEEK_SET) < 0) {
    ::close(fd);
    return std::unexpected(system_error(path));
  }
  preallocate(fd, *good);
  auto storage = std::unique_ptr<RaftStorage>(new RaftStorage(std::move(options), fd, *good));
  storage->hard_state_ = restored.hard_state;
  return storage;
}

RaftStorage::RaftStorage(StorageOptions options, int fd, std::uint64_t bytes)
    : options_(std::move(options)), fd_(fd), wal_bytes_(bytes), preallocated_to_(bytes) {}

RaftStorage::~RaftStorage() {
  ::close(fd_);
}

std::expected<void, std::string> RaftStorage::append(const std::string& bytes, bool sync) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(system_error(options_.dir + "/wal: write"));
    written += static_cast<std::size_t>(n);
  }
  wal_bytes_ += bytes.size();
  if (wal_bytes_ > preallocated_to_ + static_cast<std::uint64_t>(preallocate_bytes) / 2) {
    preallocated_to_ = wal_bytes_;
    preallocate(fd_, wal_bytes_);
  }
  if (sync && ::fdatasync(fd_) != 0) {
    return std::unexpected(system_error(options_.dir + "/wal: fdatasync"));
  }
  return {};
}

std::expected<void, std::string> RaftStorage::save(const raft::Ready& ready) {
  if (ready.snapshot) {
    // The log restarts after the received snapshot: rewrite it empty before appending.
    if (auto ok = write_snapshot(*ready.snapshot); !ok) return ok;
    if (auto ok = rewrite_wal(ready.hard_state.value_or(hard_state_), {}, {}); !ok) return ok;
  }
  std::string bytes;
  for (const raft::Entry& entry : ready.entries) encode_entry(bytes, entry);
  if (ready.hard_state) {
    encode_hard_state(bytes, *ready.hard_state);
    hard_state_ = *ready.hard_state;
  }
  if (bytes.empty()) return {};
  return append(bytes, syncs(ready));
}

std::expected<void, std::string> RaftStorage::write_snapshot(const raft::Snapshot& snapshot) {
  return runtime::write_file_atomically(options_.dir + "/snapshot", encode_snapshot(snapshot));
}

std::expected<void, std::string> RaftStorage::rewrite_wal(const raft::HardState& hard_state,
                                                          std::span<const raft::Entry> entries,
                                                          std::span<const raft::CommitMark> marks) {
  std::string bytes;
  // The commit steps still dating kept entries, each as the hard state that made it.
  for (const raft::CommitMark& mark : marks) {
    if (mark.index >= hard_state.commit) break;
    encode_hard_state(bytes, {hard_state.term, hard_state.vote, mark.index, mark.ns});
  }
  encode_hard_state(bytes, hard_state);
  hard_state_ = hard_state;
  for (const raft::Entry& entry : entries) encode_entry(bytes, entry);
  const std::string path = options_.dir + "/wal";
  if (auto ok = runtime::write_file_atomically(path, bytes); !ok) return ok;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return std::unexpected(system_error(path));
  ::close(fd_);
  fd_ = fd;
  wal_bytes_ = bytes.size();
  preallocated_to_ = wal_bytes_;
  preallocate(fd_, wal_bytes_);
  return {};
}

std::expected<void, std::string> RaftStorage::compact(const raft::Snapshot& snapshot,
                                                      const raft::HardState& hard_state,
                                                      std::span<const raft::Entry> entries,
                                                      std::span<const raft::CommitMark> marks) {
  if (auto ok = write_snapshot(snapshot); !ok) return ok;
  return rewrite_wal(hard_state, entries, marks);
}

}  // namespace mkt::validatord
