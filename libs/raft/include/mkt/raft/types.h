#pragma once
// The values a Raft node exchanges with its caller: log entries, messages, the state that must be
// persisted, and snapshots. Plain structs with no I/O; the validator service converts them to and
// from the wire protocol (proto/market/consensus/raft/v1/raft.proto), which has the same shape.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mkt::raft {

// Validators are numbered from 1 in the order of the scenario's validator list; 0 is "nobody".
using NodeId = std::uint64_t;
inline constexpr NodeId no_node = 0;

enum class EntryType : std::uint8_t {
  normal,  // data is the application's (a serialized trade batch)
  empty,   // a new leader's no-op, committed to learn the commit index (section 5.4.2)
};

struct Entry {
  std::uint64_t term = 0;
  std::uint64_t index = 0;
  EntryType type = EntryType::normal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// What a snapshot covers: every entry up to and including `index`.
struct SnapshotMeta {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  std::vector<NodeId> voters;

  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

struct Snapshot {
  SnapshotMeta meta;
  std::string data;  // the application's state machine at meta.index
};

// A step of the commit index: entries up to `index` (and after the previous mark) committed at
// `ns`, the leader's wall time.
struct CommitMark {
  std::uint64_t index = 0;
  std::int64_t ns = 0;

  friend bool operator==(const CommitMark&, const CommitMark&) = default;
};

// Must be on stable storage before the messages of the same Ready are sent (section 5.1, fig. 2).
struct HardState {
  std::uint64_t term = 0;
  NodeId vote = no_node;
  std::uint64_t commit = 0;
  // The leader's wall time (ns) when `commit` committed there: see Log::committed_at.
  std::int64_t commit_ns = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

enum class MessageType : std::uint8_t {
  append,              // AppendEntries (5.3)
  append_response,     //
  pre_vote,            // thesis 9.6: would you vote for me at term + 1? Changes no term.
  pre_vote_response,   //
  vote,                // RequestVote (5.2, 5.4.1)
  vote_response,       //
  heartbeat,           // the leader's keep-alive: min(commit, the follower's match), and the
                       // last entry sent to it (index, log_term)
  heartbeat_response,  // reject: that entry is missing (an append was lost)
  timeout_now,         // leadership transfer (thesis 3.10): campaign now, skipping pre-vote
  snapshot,            // InstallSnapshot (section 7): `snapshot` is set
};

struct Message {
  MessageType type = MessageType::append;
  NodeId from = no_node;
  NodeId to = no_node;
  std::uint64_t term = 0;
  // append: index and term of the entry before `entries`; votes: the candidate's last entry;
  // a rejected append_response: the follower's hint (see node.cpp, handle_append).
  std::uint64_t log_term = 0;
  std::uint64_t index = 0;
  std::vector<Entry> entries;
  std::uint64_t commit = 0;
  // append, heartbeat: the leader's wall time when the index this message lets the follower
  // commit (min(commit, the last index it covers)) committed there; 0 when not known.
  std::int64_t commit_ns = 0;
  bool reject = false;
  std::uint64_t reject_hint = 0;
  // vote and pre_vote: set by a leadership transfer, which may interrupt a leader's lease.
  bool transfer = false;
  std::shared_ptr<const Snapshot> snapshot;
};

enum class Role : std::uint8_t { follower, pre_candidate, candidate, leader };

const char* to_string(Role role);
const char* to_string(MessageType type);

}  // namespace mkt::raft
