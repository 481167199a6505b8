#pragma once
// A Raft node's log in memory: a snapshot point, the entries after it, and three marks.
//
//   snapshot.index < applied <= committed <= last_index,  stable <= last_index
//
// `stable` is the last entry the caller has persisted (entries after it go out in the next Ready);
// `applied` the last committed entry handed to the caller to apply. Entries up to `committed` never
// change; a conflicting suffix after it is replaced (section 5.3) and `stable` falls back with it.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "mkt/raft/types.h"

namespace mkt::raft {

class Log {
 public:
  Log() = default;
  // A log restored from storage: the snapshot point and the persisted entries after it.
  Log(std::uint64_t snapshot_index, std::uint64_t snapshot_term, std::vector<Entry> entries,
      std::uint64_t committed, std::vector<CommitMark> marks = {});

  std::uint64_t first_index() const { return snapshot_index_ + 1; }
  std::uint64_t last_index() const { return snapshot_index_ + entries_.size(); }
  std::uint64_t last_term() const;
  std::uint64_t snapshot_index() const { return snapshot_index_; }
  std::uint64_t snapshot_term() const { return snapshot_term_; }
  std::uint64_t committed() const { return committed_; }
  std::uint64_t applied() const { return applied_; }
  std::uint64_t stable() const { return stable_; }

  // The term of entry `index`; the snapshot's term at its index; nullopt when compacted away or
  // beyond the end.
  std::optional<std::uint64_t> term(std::uint64_t index) const;
  bool matches(std::uint64_t index, std::uint64_t term) const;
  // Section 5.4.1: is a log ending at (last_index, last_term) at least as up to date as this one?
  bool up_to_date(std::uint64_t last_index, std::uint64_t last_term) const;

  // Appends at the end (a leader's proposals). Indices must follow last_index().
  void append(std::vector<Entry> entries);
  // A follower's append: when entry `prev_index` has `prev_term`, keeps what matches, replaces a
  // conflicting suffix, appends the rest, and returns the index of the last entry the message
  // covers; nullopt (and nothing changes) when it does not match.
  std::optional<std::uint64_t> append_after(std::uint64_t prev_index, std::uint64_t prev_term,
                                            std::span<const Entry> entries);

  // Entry `index`. Precondition: first_index() <= index <= last_index().
  const Entry& entry(std::uint64_t index) const;
  // Entries [lo, hi) of at most `bytes_max` bytes of data, and at least one.
  // Precondition: first_index() <= lo <= hi <= last_index() + 1.
  std::vector<Entry> slice(std::uint64_t lo, std::uint64_t hi, std::size_t bytes_max) const;
  // The largest index <= `index` whose term is <= `term` (a rejected append's hint).
  std::uint64_t last_index_with_term_at_most(std::uint64_t index, std::uint64_t term) const;

  // Raises the commit index to `index`, which committed at the leader at `ns` (its wall time).
  void commit_to(std::uint64_t index, std::int64_t ns);
  // When entry `index` committed: the time of the first commit step that covered it, as the
  // leader stamped it, so every reader of every validator sees the same value (a follower that
  // missed a step's message takes the next step's time). 0 when not known: compacted, not yet
  // committed, or restored from a log written before commit times were kept.
  std::int64_t committed_at(std::uint64_t index) const;
  // The time of the commit index (what HardState::commit_ns persists), and the steps after
  // `index` (what a rewritten log must keep).
  std::int64_t committed_ns() const { return marks_.empty() ? 0 : marks_.back().ns; }
  std::vector<CommitMark> marks_after(std::uint64_t index) const;
  // Entries (applied, committed] that the caller may apply now, and the mark that hands them out.
  std::vector<Entry> to_apply() const;
  void applied_to(std::uint64_t index);
  // Entries (stable, last_index] to persist, and the mark that says they are.
  std::vector<Entry> unstable() const;
  void stable_to(std::uint64_t index, std::uint64_t term);

  // Forgets entries up to `index` (<= applied) after the caller saved a snapshot there.
  void compact(std::uint64_t index);
  // Replaces everything with a snapshot received from the leader: the log starts after it.
  void restore(const SnapshotMeta& meta);

 private:
  const Entry& at(std::uint64_t index) const { return entries_[index - first_index()]; }
  void truncate_after(std::uint64_t index);

  std::uint64_t snapshot_index_ = 0;
  std::uint64_t snapshot_term_ = 0;
  std::deque<Entry> entries_;
  std::deque<CommitMark> marks_;  // ascending; none at or below the snapshot's index
  std::uint64_t committed_ = 0;
  std::uint64_t applied_ = 0;
  std::uint64_t stable_ = 0;
};

}  // namespace mkt::raft
