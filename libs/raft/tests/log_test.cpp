// The in-memory log: matching, conflict replacement, the stable/applied/commit marks, compaction
// and snapshot restore.

#include "mkt/raft/log.h"

#include <catch2/catch_test_macros.hpp>

namespace mkt::raft {
namespace {

std::vector<Entry> entries(std::uint64_t first, std::vector<std::uint64_t> terms) {
  std::vector<Entry> out;
  for (auto term : terms) out.push_back(Entry{term, first++, EntryType::normal, "d"});
  return out;
}

TEST_CASE("raft log: append_after keeps matching entries and replaces a conflicting suffix") {
  Log log;
  log.append(entries(1, {1, 1, 2, 2}));
  log.stable_to(4, 2);
  CHECK(log.append_after(5, 2, entries(6, {2})) == std::nullopt);  // a gap
  CHECK(log.append_after(2, 2, entries(3, {2})) == std::nullopt);  // term mismatch at 2
  CHECK(log.last_index() == 4);
  // A duplicate of what is there changes nothing, not even the stable mark.
  CHECK(log.append_after(1, 1, entries(2, {1, 2})) == 3);
  CHECK(log.stable() == 4);
  // A conflict at 3 replaces 3 and 4; the stable mark falls back to 2.
  CHECK(log.append_after(2, 1, entries(3, {3})) == 3);
  CHECK(log.last_index() == 3);
  CHECK(log.term(3) == 3);
  CHECK(log.stable() == 2);
  CHECK(log.unstable().size() == 1);
}

TEST_CASE("raft log: stable_to ignores a mark for a suffix that was replaced meanwhile") {
  Log log;
  log.append(entries(1, {1, 1}));
  log.stable_to(2, 7);  // the caller persisted a different entry 2
  CHECK(log.stable() == 0);
  log.stable_to(2, 1);
  CHECK(log.stable() == 2);
}

TEST_CASE("raft log: up_to_date compares last term, then length") {
  // Reference: section 5.4.1.
  Log log;
  log.append(entries(1, {1, 2, 2}));
  CHECK(log.up_to_date(1, 3));
  CHECK(log.up_to_date(3, 2));
  CHECK_FALSE(log.up_to_date(2, 2));
  CHECK_FALSE(log.up_to_date(9, 1));
}

TEST_CASE("raft log: the hint skips back over a whole term") {
  Log log;
  log.append(entries(1, {1, 1, 1, 4, 4, 4, 4}));
  CHECK(log.last_index_with_term_at_most(7, 3) == 3);
  CHECK(log.last_index_with_term_at_most(9, 4) == 7);
  CHECK(log.last_index_with_term_at_most(2, 1) == 2);
  CHECK(log.last_index_with_term_at_most(7, 0) == 0);
}

TEST_CASE("raft log: slice honours the byte limit but returns at least one entry") {
  Log log;
  log.append(entries(1, {1, 1, 1, 1}));
  CHECK(log.slice(1, 5, 0).size() == 1);
  CHECK(log.slice(1, 5, 2).size() == 2);
  CHECK(log.slice(2, 5, 100).size() == 3);
}

TEST_CASE("raft log: compaction keeps the term at the snapshot point") {
  Log log;
  log.append(entries(1, {1, 2, 3, 3}));
  log.stable_to(4, 3);
  log.commit_to(3, 0);
  log.applied_to(3);
  log.compact(2);
  CHECK(log.first_index() == 3);
  CHECK(log.term(2) == 2);
  CHECK(log.term(1) == std::nullopt);
  CHECK(log.matches(2, 2));
  CHECK(log.to_apply().empty());
  log.commit_to(4, 0);
  REQUIRE(log.to_apply().size() == 1);
  CHECK(log.to_apply().front().index == 4);
}

TEST_CASE("raft log: an entry is dated by the commit step that covered it") {
  Log log;
  log.append(entries(1, {1, 1, 1, 1, 1}));
  log.stable_to(5, 1);
  log.commit_to(2, 100);
  log.commit_to(2, 999);  // no rise, no step
  log.commit_to(4, 200);
  CHECK(log.committed_at(1) == 100);
  CHECK(log.committed_at(2) == 100);
  CHECK(log.committed_at(3) == 200);
  CHECK(log.committed_at(4) == 200);
  CHECK(log.committed_at(5) == 0);  // not committed yet
  CHECK(log.committed_ns() == 200);
  CHECK(log.marks_after(2) == std::vector<CommitMark>{{4, 200}});
  // Compaction at 3 keeps the step that still dates entry 4, and drops those before.
  log.applied_to(4);
  log.compact(3);
  CHECK(log.committed_at(3) == 0);
  CHECK(log.committed_at(4) == 200);
  // A restored log takes the steps after its snapshot, in order, up to its commit index.
  Log restored(1, 1, entries(2, {1, 1, 1}), 3, {{1, 50}, {2, 100}, {3, 150}, {4, 200}});
  CHECK(restored.committed_at(2) == 100);
  CHECK(restored.committed_at(3) == 150);
  CHECK(restored.committed_at(4) == 0);
}

TEST_CASE("raft log: a restored snapshot replaces the log") {
  Log log;
  log.append(entries(1, {1, 1}));
  log.restore(SnapshotMeta{10, 3, {1, 2, 3}});
  CHECK(log.first_index() == 11);
  CHECK(log.last_index() == 10);
  CHECK(log.last_term() == 3);
  CHECK(log.committed() == 10);
  CHECK(log.applied() == 10);
  CHECK(log.unstable().empty());
}

TEST_CASE("raft log: restart state") {
  Log log(5, 2, entries(6, {2, 3}), 6, {});
  CHECK(log.first_index() == 6);
  CHECK(log.last_index() == 7);
  CHECK(log.stable() == 7);
  CHECK(log.committed() == 6);
  CHECK(log.applied() == 5);
  CHECK(log.to_apply().size() == 1);
}

}  // namespace
}  // namespace mkt::raft
