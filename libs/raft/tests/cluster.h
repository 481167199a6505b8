#pragma once
// A cluster of Raft nodes in memory for the tests: each node has a storage that keeps exactly what
// the Ready contract says was persisted, a toy state machine (a hash chain of applied entries, so
// replicas compare with one number), and compaction into snapshots of that state machine.
// Crashing a node throws away everything but its storage; restarting builds a new Node from it.
//
// Checkers run as the cluster goes, and fail through `violation` (the simulation prints its seed):
//   - at most one leader per term (election safety, 5.2);
//   - no two different entries committed at one index (state machine safety, 5.4.3);
//   - every entry committed before a term is in the log of that term's leader (leader
//     completeness, 5.4);
//   - logs that hold an entry with the same index and term are identical up to it (log
//     matching, 5.3);
//   - replicas that applied up to an index hold the same state there.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mkt/raft/node.h"

namespace mkt::raft::testing {

struct Storage {
  HardState hard_state;
  HardState synced_hard_state;  // what a crash keeps: a hard state written unsynced is lost
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;     // after the snapshot, contiguous
  std::vector<CommitMark> marks;  // each rise of the commit index written, as a WAL keeps them

  void persist(const Ready& ready) {
    if (ready.snapshot) {
      snapshot = ready.snapshot;
      entries.clear();  // the log starts after a received snapshot
    }
    if (!ready.entries.empty()) {
      const std::uint64_t first = ready.entries.front().index;
      std::erase_if(entries, [&](const Entry& e) { return e.index >= first; });
      entries.insert(entries.end(), ready.entries.begin(), ready.entries.end());
    }
    if (ready.hard_state) {
      hard_state = *ready.hard_state;
      if (marks.empty() || hard_state.commit > marks.back().index) {
        marks.push_back({hard_state.commit, hard_state.commit_ns});
      }
    }
    // A sync makes durable everything written before it, as fdatasync does for a file. Entries
    // and snapshots always come with must_sync, so only a commit index is ever lost.
    if (ready.must_sync) synced_hard_state = hard_state;
  }

  void lose_unsynced() {
    hard_state = synced_hard_state;
    std::erase_if(marks, [&](const CommitMark& m) { return m.index > hard_state.commit; });
  }

  void compact(Snapshot taken) {
    std::erase_if(entries, [&](const Entry& e) { return e.index <= taken.meta.index; });
    snapshot = std::move(taken);
  }

  Restore restore() const { return {hard_state, snapshot, entries, marks}; }
};

// The applied state: how many entries and a hash chain over their data.
struct StateMachine {
  std::uint64_t index = 0;
  std::uint64_t hash = 0xcbf29ce484222325ULL;

  void apply(const Entry& entry) {
    index = entry.index;
    for (char c : entry.data) hash = (hash ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ULL;
    hash = (hash ^ entry.index) * 0x100000001b3ULL;
  }
  std::string save() const { return std::to_string(index) + " " + std::to_string(hash); }
  static StateMachine load(const std::string& data) {
    StateMachine sm;
    const auto space = data.find(' ');
    sm.index = std::stoull(data.substr(0, space));
    sm.hash = std::stoull(data.substr(space + 1));
    return sm;
  }
};

class Cluster {
 public:
  using Violation = std::function<void(const std::string&)>;

  Cluster(std::size_t size, std::uint64_t seed, Violation violation,
          std::function<void(Config&)> tweak = {})
      : violation_(std::move(violation)), tweak_(std::move(tweak)), seed_(seed) {
    for (NodeId id = 1; id <= size; ++id) ids_.push_back(id);
    for (NodeId id : ids_) {
      members_[id];
      start(id);
    }
  }

  const std::vector<NodeId>& ids() const { return ids_; }
  Node& node(NodeId id) { return *members_.at(id).node; }
  bool up(NodeId id) const { return members_.at(id).node != nullptr; }
  const Storage& storage(NodeId id) const { return members_.at(id).storage; }
  const StateMachine& state(NodeId id) const { return members_.at(id).state; }
  // Compact every node's log once this many entries were applied past its snapshot (0: never).
  void compact_every(std::uint64_t entries) { compact_every_ = entries; }

  void crash(NodeId id) {
    Member& member = members_.at(id);
    member.node.reset();
    member.writing.reset();  // the write in flight never reached the disk
    member.storage.lose_unsynced();
  }
  void start(NodeId id) {
    Member& member = members_.at(id);
    Config config{.id = id, .voters = ids_, .seed = seed_ * 1000 + id + restarts_++};
    if (tweak_) tweak_(config);
    member.node = std::make_unique<Node>(config, member.storage.restore());
    member.state = member.storage.snapshot ? StateMachine::load(member.storage.snapshot->data)
                                           : StateMachine{};
  }

  // Runs the Ready loop of one node: persist, collect messages, apply, advance. Returns the
  // messages to send. With a slow disk (hold_writes), a Ready may stay "being written" until
  // complete_write: the node keeps stepping and ticking meanwhile (what it produces waits for the
  // next Ready), and a leader's messages go before its write, as validatord's writer thread does.
  std::vector<Message> process(NodeId id) {
    std::vector<Message> out;
    Member& member = members_.at(id);
    if (!member.node || member.writing) return out;
    Node& node = *member.node;
    while (node.has_ready()) {
      Ready ready = node.ready();
      if (node.role() == Role::leader && !ready.snapshot) {
        for (auto& message : ready.messages) out.push_back(std::move(message));
        ready.messages.clear();
      }
      if (hold_ && hold_()) {
        member.writing = std::move(ready);
        break;
      }
      finish(id, member, ready, out);
    }
    check_leader(id);
    return out;
  }

  // The slow disk: `hold` says whether the next Ready's write is left in flight.
  void hold_writes(std::function<bool()> hold) { hold_ = std::move(hold); }
  // Ends the write in flight (if any) and runs the Ready loop on.
  std::vector<Message> complete_write(NodeId id) {
    Member& member = members_.at(id);
    if (!member.node || !member.writing) return {};
    Ready ready = std::move(*member.writing);
    member.writing.reset();
    std::vector<Message> out;
    finish(id, member, ready, out);
    for (auto& message : process(id)) out.push_back(std::move(message));
    return out;
  }

  // Delivers a message to a live node (a dead one drops it), then runs its Ready loop.
  std::vector<Message> deliver(const Message& message) {
    Member& member = members_.at(message.to);
    if (!member.node) return {};
    (void)member.node->step(message);
    return process(message.to);
  }

  // Log matching across every pair of live nodes.
  void check_logs() {
    for (NodeId a : ids_) {
      for (NodeId b : ids_) {
        if (a < b && up(a) && up(b)) check_pair(node(a).log(), node(b).log());
      }
    }
  }

  // The index at which each proposal's data was applied by some node.
  const std::map<std::string, std::uint64_t>& applied_by() const { return applied_by_; }
  std::optional<NodeId> leader() {
    std::optional<NodeId> found;
    for (NodeId id : ids_) {
      if (up(id) && node(id).role() == Role::leader &&
          (!found || node(id).term() > node(*found).term())) {
        found = id;
      }
    }
    return found;
  }

 private:
  struct Member {
    std::unique_ptr<Node> node;
    Storage storage;
    StateMachine state;
    std::optional<Ready> writing;  // a Ready whose write is in flight (hold_writes)
  };

  // Steps 1 to 5 of the Ready contract, once the Ready is "written".
  void finish(NodeId id, Member& member, const Ready& ready, std::vector<Message>& out) {
    member.storage.persist(ready);
    if (ready.snapshot) member.state = StateMachine::load(ready.snapshot->data);
    for (const Message& message : ready.messages) out.push_back(message);
    for (const Entry& entry : ready.committed) {
      check_committed(id, entry);
      member.state.apply(entry);
      check_state(member.state);
      if (entry.type == EntryType::normal) applied_by_.emplace(entry.data, entry.index);
    }
    member.node->advance(ready);
    maybe_compact(member);
  }

  void fail(const std::string& what) { violation_(what); }

  void check_committed(NodeId id, const Entry& entry) {
    auto [it, inserted] = committed_.emplace(entry.index, entry);
    if (!inserted && !(it->second == entry)) {
      fail("two different entries committed at index " + std::to_string(entry.index) + " (node " +
           std::to_string(id) + ")");
    }
  }

  void check_state(const StateMachine& state) {
    auto [it, inserted] = states_.emplace(state.index, state.hash);
    if (!inserted && it->second != state.hash) {
      fail("replicas differ after applying index " + std::to_string(state.index));
    }
  }

  void check_leader(NodeId id) {
    Node& n = node(id);
    if (n.role() != Role::leader) return;
    auto [it, inserted] = leaders_.emplace(n.term(), id);
    if (it->second != id) {
      fail("two leaders in term " + std::to_string(n.term()) + ": " + std::to_string(it->second) +
           " and " + std::to_string(id));
    }
    if (!inserted) return;
    // Leader completeness: everything committed so far is in the new leader's log.
    for (const auto& [index, entry] : committed_) {
      if (index <= n.log().snapshot_index()) continue;
      if (!n.log().matches(index, entry.term)) {
        fail("leader " + std::to_string(id) + " of term " + std::to_string(n.term()) +
             " lacks committed entry " + std::to_string(index));
      }
    }
  }

  void check_pair(const Log& a, const Log& b) {
    const std::uint64_t lo = std::max(a.first_index(), b.first_index());
    const std::uint64_t hi = std::min(a.last_index(), b.last_index());
    // The highest index where both hold the same term: everything in range before it must agree.
    std::uint64_t agree = 0;
    for (std::uint64_t i = hi; i >= lo && i > 0; --i) {
      if (a.term(i) == b.term(i)) {
        agree = i;
        break;
      }
    }
    for (std::uint64_t i = lo; i <= agree; ++i) {
      if (!(a.entry(i) == b.entry(i))) {
        fail("log matching broken at index " + std::to_string(i));
        return;
      }
    }
  }

  void maybe_compact(Member& member) {
    Node& node = *member.node;
    if (compact_every_ == 0) return;
    const std::uint64_t applied = node.log().applied();
    if (applied < node.log().snapshot_index() + compact_every_) return;
    // The state machine is exactly at `applied` here: it applied every committed entry handed out.
    if (member.state.index != applied) return;
    if (!node.compact(applied, member.state.save())) return;
    member.storage.compact(
        Snapshot{SnapshotMeta{applied, *node.log().term(applied), ids_}, member.state.save()});
  }

  Violation violation_;
  std::function<void(Config&)> tweak_;
  std::function<bool()> hold_;
  std::uint64_t seed_;
  std::uint64_t restarts_ = 0;
  std::vector<NodeId> ids_;
  std::map<NodeId, Member> members_;
  std::map<std::uint64_t, Entry> committed_;
  std::map<std::uint64_t, std::uint64_t> states_;
  std::map<std::uint64_t, NodeId> leaders_;
  std::map<std::string, std::uint64_t> applied_by_;
  std::uint64_t compact_every_ = 0;
};

}  // namespace mkt::raft::testing
