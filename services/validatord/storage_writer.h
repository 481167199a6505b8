#pragma once
// The validator's disk on a thread of its own: the Raft strand steps and answers while a Ready's
// entries are written and synced, and whatever is proposed meanwhile goes into the next Ready, so
// one sync covers it all (group commit). One job at a time, in order; each job's result is posted
// back to the strand, which only then sends what the Ready promised and applies what it
// committed (node.h's Ready contract, steps 3 to 5).
//
// The caller may instead write a Ready on the strand (save_here): one that need not be synced (a
// commit index, messages, entries to apply, or anything under --wal-sync none) is a page-cache
// write of a few frames, which costs less than the two thread hand-offs.

#include <condition_variable>
#include <deque>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mkt/raft/node.h"
#include "mkt/runtime/process.h"
#include "storage.h"

namespace mkt::validatord {

class StorageWriter {
 public:
  // The WAL's size after the job (for the compaction rule), or what failed.
  using Done = std::function<void(std::expected<std::uint64_t, std::string>)>;

  // `storage` is used only by the writer thread from now on; it must outlive the writer.
  StorageWriter(RaftStorage& storage, runtime::Strand strand);
  // Finishes the job in hand (its result is posted, and runs only if the strand still runs),
  // drops the rest, and joins the thread.
  ~StorageWriter();
  StorageWriter(const StorageWriter&) = delete;
  StorageWriter& operator=(const StorageWriter&) = delete;

  // On the strand. Persists the Ready's snapshot, entries and hard state (RaftStorage::save).
  void save(std::shared_ptr<const raft::Ready> ready, Done done);
  // Whether saving `ready` syncs (RaftStorage::syncs); thread-safe.
  bool syncs(const raft::Ready& ready) const { return storage_.syncs(ready); }
  // On the strand, with no job in hand (the thread touches the storage only inside a job, and a
  // job's result reaches the strand by a post, which orders its writes before these): saves
  // `ready` here, as save() would on the thread, and returns the WAL's size.
  std::expected<std::uint64_t, std::string> save_here(const raft::Ready& ready);
  // On the strand. Replaces the snapshot and rewrites the log (RaftStorage::compact).
  void compact(raft::Snapshot snapshot, raft::HardState hard_state,
               std::vector<raft::Entry> entries, std::vector<raft::CommitMark> marks, Done done);

 private:
  using Job = std::function<std::expected<void, std::string>()>;
  void push(Job job, Done done);
  // Runs a job; its result as Done takes it.
  std::expected<std::uint64_t, std::string> run(const Job& job);
  void loop();

  RaftStorage& storage_;
  runtime::Strand strand_;
  // Shared with the writer thread: the one mutex of validatord, guarding only this queue (a
  // handoff between two threads, where a strand cannot block for work).
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<Job, Done>> jobs_;  // guarded by mutex_
  bool stopping_ = false;                  // guarded by mutex_
  std::thread thread_;                     // last: starts once the rest is built
};

}  // namespace mkt::validatord
