#include "mkt/raft/log.h"

#include <algorithm>

#include "mkt/core/invariant.h"

namespace mkt::raft {

Log::Log(std::uint64_t snapshot_index, std::uint64_t snapshot_term, std::vector<Entry> entries,
         std::uint64_t committed, std::vector<CommitMark> marks)
    : snapshot_index_(snapshot_index),
      snapshot_term_(snapshot_term),
      entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())),
      committed_(std::max(committed, snapshot_index)),
      applied_(snapshot_index),
      stable_(last_index()) {
  for (std::uint64_t i = first_index(); i <= last_index(); ++i) {
    MKT_INVARIANT(at(i).index == i, "restored entries must be contiguous after the snapshot");
  }
  MKT_INVARIANT(committed_ <= last_index(), "restored commit index beyond the log");
  for (const CommitMark& mark : marks) {
    if (mark.index > snapshot_index_ && mark.index <= committed_ &&
        (marks_.empty() || mark.index > marks_.back().index)) {
      marks_.push_back(mark);
    }
  }
}

std::uint64_t Log::last_term() const {
  return entries_.empty() ? snapshot_term_ : entries_.back().term;
}

std::optional<std::uint64_t> Log::term(std::uint64_t index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < first_index() || index > last_index()) return std::nullopt;
  return at(index).term;
}

bool Log::matches(std::uint64_t index, std::uint64_t term_wanted) const {
  const auto found = term(index);
  return found && *found == term_wanted;
}

bool Log::up_to_date(std::uint64_t index, std::uint64_t term_of_last) const {
  return term_of_last > last_term() || (term_of_last == last_term() && index >= last_index());
}

void Log::append(std::vector<Entry> entries) {
  for (auto& entry : entries) {
    MKT_INVARIANT(entry.index == last_index() + 1, "appended entries must follow the log");
    MKT_INVARIANT(entry.term >= last_term(), "terms in the log never decrease");
    entries_.push_back(std::move(entry));
  }
}

std::optional<std::uint64_t> Log::append_after(std::uint64_t prev_index, std::uint64_t prev_term,
                                               std::span<const Entry> entries) {
  if (!matches(prev_index, prev_term)) return std::nullopt;
  const std::uint64_t covered = prev_index + entries.size();
  for (const auto& entry : entries) {
    if (entry.index <= snapshot_index_) continue;  // already compacted, hence committed
    const auto have = term(entry.index);
    if (have && *have == entry.term) continue;  // log matching: identical up to here
    if (have) {
      MKT_INVARIANT(entry.index > committed_, "a committed entry must never be replaced");
      truncate_after(entry.index - 1);
    }
    entries_.push_back(entry);
  }
  return covered;
}

void Log::truncate_after(std::uint64_t index) {
  while (last_index() > index) entries_.pop_back();
  stable_ = std::min(stable_, index);
}

const Entry& Log::entry(std::uint64_t index) const {
  MKT_INVARIANT(first_index() <= index && index <= last_index(), "entry out of range");
  return at(index);
}

std::vector<Entry> Log::slice(std::uint64_t lo, std::uint64_t hi, std::size_t bytes_max) const {
  MKT_INVARIANT(first_index() <= lo && lo <= hi && hi <= last_index() + 1, "slice out of range");
  std::vector<Entry> out;
  std::size_t bytes = 0;
  for (std::uint64_t i = lo; i < hi; ++i) {
    const Entry& entry = at(i);
    bytes += entry.data.size();
    if (!out.empty() && bytes > bytes_max) break;
    out.push_back(entry);
  }
  return out;
}

std::uint64_t Log::last_index_with_term_at_most(std::uint64_t index, std::uint64_t term_max) const {
  index = std::min(index, last_index());
  while (index > snapshot_index_ && at(index).term > term_max) --index;
  return index;
}

void Log::commit_to(std::uint64_t index, std::int64_t ns) {
  if (index <= committed_) return;  // the commit index only grows
  MKT_INVARIANT(index <= last_index(), "commit beyond the end of the log");
  committed_ = index;
  marks_.push_back({index, ns});
}

std::int64_t Log::committed_at(std::uint64_t index) const {
  if (index <= snapshot_index_ || index > committed_) return 0;
  const auto it = std::ranges::lower_bound(marks_, index, {}, &CommitMark::index);
  return it == marks_.end() ? 0 : it->ns;
}

std::vector<CommitMark> Log::marks_after(std::uint64_t index) const {
  const auto it = std::ranges::upper_bound(marks_, index, {}, &CommitMark::index);
  return {it, marks_.end()};
}

std::vector<Entry> Log::to_apply() const {
  std::vector<Entry> out;
  for (std::uint64_t i = applied_ + 1; i <= committed_; ++i) out.push_back(at(i));
  return out;
}

void Log::applied_to(std::uint64_t index) {
  MKT_INVARIANT(index <= committed_, "applied beyond the commit index");
  applied_ = std::max(applied_, index);
}

std::vector<Entry> Log::unstable() const {
  return {entries_.begin() + static_cast<std::ptrdiff_t>(stable_ - snapshot_index_),
          entries_.end()};
}

void Log::stable_to(std::uint64_t index, std::uint64_t term_persisted) {
  // A suffix replaced since the caller started writing is not the one it persisted.
  if (index > stable_ && matches(index, term_persisted)) stable_ = index;
}

void Log::compact(std::uint64_t index) {
  if (index <= snapshot_index_) return;
  MKT_INVARIANT(index <= applied_, "compact only what was applied");
  snapshot_term_ = at(index).term;
  while (snapshot_index_ < index) {
    entries_.pop_front();
    ++snapshot_index_;
  }
  // A step past `index` still dates the entries after it that it covers.
  while (!marks_.empty() && marks_.front().index <= index) marks_.pop_front();
}

void Log::restore(const SnapshotMeta& meta) {
  MKT_INVARIANT(meta.index > committed_, "a snapshot restore never moves the commit index back");
  entries_.clear();
  marks_.clear();
  snapshot_index_ = meta.index;
  snapshot_term_ = meta.term;
  committed_ = applied_ = stable_ = meta.index;
}

}  // namespace mkt::raft
