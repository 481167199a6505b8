// The validator's storage: what save() persisted is what open() restores, a torn tail is cut,
// damage before the end refuses to start, and compaction leaves a snapshot and the entries after
// it; the conversions between the wire and the libs round-trip.

#include "storage.h"

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <filesystem>
#include <fstream>

#include "convert.h"

namespace mkt::validatord {
namespace {

using Catch::Matchers::ContainsSubstring;

struct Dir {
  Dir()
      : path(std::filesystem::temp_directory_path() /
             ("validatord-storage-" + std::to_string(::getpid()) + "-" + std::to_string(n++))) {
    std::filesystem::remove_all(path);
  }
  ~Dir() { std::filesystem::remove_all(path); }
  std::string str() const { return path.string(); }
  std::filesystem::path path;
  static inline int n = 0;
};

raft::Entry entry(std::uint64_t term, std::uint64_t index, std::string data = "x") {
  return {term, index, raft::EntryType::normal, std::move(data)};
}

std::unique_ptr<RaftStorage> open(const Dir& dir, raft::Restore& restored,
                                  RecoveryStats* stats = nullptr) {
  RecoveryStats ignored;
  auto storage = RaftStorage::open({dir.str(), mkt::runtime::SyncMode::fsync}, restored,
                                   stats ? *stats : ignored);
  INFO((storage ? std::string() : storage.error()));
  REQUIRE(storage);
  return std::move(*storage);
}

TEST_CASE("validator storage: entries and hard state survive a restart") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    CHECK(restored.entries.empty());
    raft::Ready ready;
    ready.entries = {entry(1, 1), entry(1, 2), entry(2, 3)};
    ready.hard_state = raft::HardState{2, 1, 2, 0};
    REQUIRE(storage->save(ready));
    // A conflicting suffix replaced from index 3.
    ready.entries = {entry(3, 3, "y"), entry(3, 4)};
    ready.hard_state = raft::HardState{3, 2, 3, 0};
    REQUIRE(storage->save(ready));
  }
  raft::Restore restored;
  auto storage = open(dir, restored);
  CHECK(restored.hard_state == raft::HardState{3, 2, 3, 0});
  REQUIRE(restored.entries.size() == 4);
  CHECK(restored.entries[2] == entry(3, 3, "y"));
  CHECK(restored.entries[3].index == 4);
}

TEST_CASE("validator storage: a torn tail is cut, damage before the end is refused") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    raft::Ready ready;
    ready.entries = {entry(1, 1), entry(1, 2)};
    REQUIRE(storage->save(ready));
  }
  const auto wal = dir.path / "wal";
  const auto size = std::filesystem::file_size(wal);
  std::filesystem::resize_file(wal, size - 3);  // the last record cut short
  {
    raft::Restore restored;
    RecoveryStats stats;
    auto storage = open(dir, restored, &stats);
    CHECK(restored.entries.size() == 1);
    CHECK(stats.torn_bytes_dropped > 0);
    raft::Ready ready;
    ready.entries = {entry(1, 2, "again")};
    REQUIRE(storage->save(ready));  // appends after the cut
  }
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    REQUIRE(restored.entries.size() == 2);
    CHECK(restored.entries[1].data == "again");
  }
  // A flipped byte in the first record, with a good one after it: corruption, not a torn write.
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(10);
    file.put('\x7f');
  }
  raft::Restore restored;
  RecoveryStats stats;
  auto refused = RaftStorage::open({dir.str(), mkt::runtime::SyncMode::fsync}, restored, stats);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(), ContainsSubstring("checksum"));
}

TEST_CASE("validator storage: compaction keeps the snapshot and what follows it") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    raft::Ready ready;
    for (std::uint64_t i = 1; i <= 10; ++i) ready.entries.push_back(entry(1, i));
    ready.hard_state = raft::HardState{1, 1, 8, 0};
    REQUIRE(storage->save(ready));
    const auto before = storage->wal_bytes();
    std::vector<raft::Entry> after{entry(1, 9), entry(1, 10)};
    REQUIRE(storage->compact(raft::Snapshot{{8, 1, {1, 2, 3}}, "ledger"}, {1, 1, 8, 0}, after, {}));
    CHECK(storage->wal_bytes() < before);
    raft::Ready more;
    more.entries = {entry(2, 11)};
    REQUIRE(storage->save(more));
  }
  raft::Restore restored;
  auto storage = open(dir, restored);
  REQUIRE(restored.snapshot);
  CHECK(restored.snapshot->meta == raft::SnapshotMeta{8, 1, {1, 2, 3}});
  CHECK(restored.snapshot->data == "ledger");
  REQUIRE(restored.entries.size() == 3);
  CHECK(restored.entries.front().index == 9);
  CHECK(restored.hard_state.commit == 8);
}

TEST_CASE(
    "validator storage: the commit steps that date entries survive a restart and a compaction") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    raft::Ready ready;
    for (std::uint64_t i = 1; i <= 6; ++i) ready.entries.push_back(entry(1, i));
    ready.hard_state = raft::HardState{1, 1, 2, 100};
    REQUIRE(storage->save(ready));
    for (auto [commit, ns] : {std::pair<std::uint64_t, std::int64_t>{4, 200}, {5, 300}}) {
      raft::Ready step;
      step.hard_state = raft::HardState{1, 1, commit, ns};
      REQUIRE(storage->save(step));
    }
  }
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    CHECK(restored.commit_marks == std::vector<raft::CommitMark>{{2, 100}, {4, 200}, {5, 300}});
    // Compacted at 3: the step at 4 still dates entry 4, so the rewritten log keeps it.
    std::vector<raft::Entry> after{entry(1, 4), entry(1, 5), entry(1, 6)};
    REQUIRE(storage->compact(raft::Snapshot{{3, 1, {1, 2, 3}}, "ledger"}, {1, 1, 5, 300}, after,
                             std::vector<raft::CommitMark>{{4, 200}, {5, 300}}));
  }
  raft::Restore restored;
  auto storage = open(dir, restored);
  CHECK(restored.commit_marks == std::vector<raft::CommitMark>{{4, 200}, {5, 300}});
  CHECK(restored.hard_state == raft::HardState{1, 1, 5, 300});
}

TEST_CASE("validator storage: a snapshot from the leader restarts the log after it") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    raft::Ready ready;
    ready.entries = {entry(1, 1), entry(1, 2)};
    ready.hard_state = raft::HardState{1, 1, 1, 0};
    REQUIRE(storage->save(ready));
    raft::Ready install;
    install.snapshot = raft::Snapshot{{50, 3, {1, 2, 3}}, "state"};
    install.hard_state = raft::HardState{3, 0, 50, 0};
    REQUIRE(storage->save(install));
  }
  raft::Restore restored;
  auto storage = open(dir, restored);
  REQUIRE(restored.snapshot);
  CHECK(restored.snapshot->meta.index == 50);
  CHECK(restored.entries.empty());
  CHECK(restored.hard_state == raft::HardState{3, 0, 50, 0});
}

TEST_CASE("validator wire conversions round-trip and refuse strangers") {
  Roster roster({"val-0", "val-1", "val-2"});
  CHECK(roster.id_of("val-2") == 3);
  CHECK(roster.id_of("nobody") == raft::no_node);
  raft::Message m;
  m.type = raft::MessageType::append;
  m.from = 1;
  m.to = 3;
  m.term = 4;
  m.log_term = 3;
  m.index = 9;
  m.commit = 8;
  m.reject_hint = 7;
  m.transfer = true;
  m.entries = {entry(4, 10, "a"), {4, 11, raft::EntryType::empty, ""}};
  m.snapshot = std::make_shared<raft::Snapshot>(raft::Snapshot{{5, 2, {1, 2, 3}}, "s"});
  market::consensus::raft::v1::Message wire;
  to_proto(m, roster, wire);
  CHECK(wire.from() == "val-0");
  auto back = from_proto(wire, roster);
  REQUIRE(back);
  CHECK(back->entries == m.entries);
  CHECK(back->term == 4);
  CHECK(back->transfer);
  REQUIRE(back->snapshot);
  CHECK(back->snapshot->meta == m.snapshot->meta);
  wire.set_from("val-9");
  CHECK_FALSE(from_proto(wire, roster));
  wire.set_from("val-0");
  wire.set_type(market::consensus::raft::v1::MESSAGE_TYPE_UNSPECIFIED);
  CHECK_FALSE(from_proto(wire, roster));
}

TEST_CASE("validator storage: a log whose commit index is past its entries is refused") {
  Dir dir;
  {
    raft::Restore restored;
    auto storage = open(dir, restored);
    raft::Ready ready;
    ready.entries = {entry(1, 1), entry(1, 2)};
    ready.hard_state = raft::HardState{1, 1, 5, 0};  // damage: nothing past entry 2 was written
    REQUIRE(storage->save(ready));
  }
  raft::Restore restored;
  RecoveryStats stats;
  auto refused = RaftStorage::open({dir.str(), mkt::runtime::SyncMode::fsync}, restored, stats);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(), ContainsSubstring("the commit index 5 is past the last entry, 2"));
}

}  // namespace
}  // namespace mkt::validatord
