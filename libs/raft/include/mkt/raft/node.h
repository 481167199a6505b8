#pragma once
// One Raft node as a pure state machine, in the shape of etcd's raft package: the caller feeds it
// time (`tick`), messages from peers (`step`) and proposals, and collects what to persist, send and
// apply (`ready`), then says it is done (`advance`). No I/O, no clock, no threads: the same code
// runs in the validator service and in the deterministic simulation (tests/simulation_test.cpp).
//
// The contract for each Ready, in this order:
//   1. persist `snapshot` (when set) and restore the state machine from it;
//   2. persist `entries` (the first one's index says where: anything from there on is replaced)
//      and `hard_state` (when set); durably (synced) when `must_sync` is set. It is not when the
//      Ready holds no entries, no snapshot and no new term or vote: a hard state that only moves
//      the commit index may stay in the page cache, because a restart that loses it recovers a
//      lower commit, which the leader raises again (the commit index is volatile state in the
//      Raft paper; etcd's MustSync). step() and tick() may be called before advance(): what they
//      produce waits for the next Ready;
//   3. send `messages` (only now: a vote or an append acknowledgement promises what is on disk;
//      a leader may send its messages before or while it persists, thesis 10.2.1, because it
//      counts itself towards a commit only from advance());
//   4. apply `committed` in order;
//   5. call advance(ready).
// The leader counts its own entries towards a quorum only from advance, after they are on disk.
//
// Implemented: leader election with randomized timeouts, pre-vote (thesis 9.6), check-quorum and
// the leader lease it gives (6.2), log replication with batching (bytes per message) and
// pipelining (a window of appends in flight per follower), fast backtracking on a rejected append,
// the commit rule (5.4.2: only entries of the current term commit by counting), snapshots and log
// compaction (7), and leadership transfer (3.10). Not implemented: membership changes (the voters
// are fixed at start) and linearizable reads (ReadIndex).
//
// A Node is not thread-safe: it belongs to one strand.

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mkt/raft/log.h"
#include "mkt/raft/types.h"

namespace mkt::raft {

struct Config {
  NodeId id = no_node;
  std::vector<NodeId> voters;  // every voter, this node included
  // A follower campaigns after a random number of ticks in [election_ticks, 2 * election_ticks).
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  // Batching and pipelining of appends to one follower.
  std::size_t message_bytes_max = 1 << 20;
  std::size_t inflight_max = 64;
  // Proposals refused with `busy` while the entries not yet committed exceed this.
  std::size_t uncommitted_bytes_max = 64 << 20;
  std::uint64_t seed = 1;  // for the randomized election timeouts
};

// What a node restarts from: everything its storage held.
struct Restore {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;  // contiguous, after the snapshot
  // The commit steps after the snapshot (storage keeps them with the hard states); only dates
  // entries, see Log::committed_at.
  std::vector<CommitMark> commit_marks;
};

struct Ready {
  std::optional<HardState> hard_state;  // changed since the last Ready
  std::optional<Snapshot> snapshot;     // received from the leader: persist and restore
  std::vector<Entry> entries;           // to persist
  std::vector<Entry> committed;         // to apply
  std::vector<Message> messages;        // to send once the above is persisted
  bool must_sync = false;               // step 2 must be durable before step 3
};

enum class Error : std::uint8_t {
  not_leader,    // propose or transfer on a node that is not the leader
  transferring,  // a leadership transfer is under way
  busy,          // too many bytes proposed and not yet committed
  unknown_node,  // a message from or to a node outside the voters
  malformed,     // a peer's message that breaks the protocol's shape
  bad_argument,  // a caller's argument out of range
};
const char* to_string(Error error);

struct PeerStatus {
  NodeId id = no_node;
  std::uint64_t match = 0;
  std::uint64_t next = 0;
  bool active = false;  // heard from within the current election timeout
};

struct Status {
  NodeId id = no_node;
  Role role = Role::follower;
  std::uint64_t term = 0;
  NodeId leader = no_node;
  std::uint64_t commit = 0;
  std::uint64_t applied = 0;
  std::uint64_t last_index = 0;
  std::uint64_t first_index = 0;
  std::vector<PeerStatus> peers;  // the leader's view; empty elsewhere
};

class Node {
 public:
  // Precondition: config.id is one of config.voters, voters are distinct and not no_node.
  explicit Node(Config config, Restore restore = {});

  // One unit of logical time (the service ticks every few milliseconds).
  void tick();
  // The caller's wall clock, read before each step, tick or advance. It only dates commits
  // (Log::committed_at); nothing the protocol decides depends on it.
  void set_time(std::int64_t wall_ns) { now_ns_ = wall_ns; }
  // A message from a peer. Errors leave the node unchanged.
  std::expected<void, Error> step(const Message& message);
  // Appends an entry (leader only) and returns its index. It is committed when `committed`
  // of a later Ready holds it with this index and the term of the proposal.
  std::expected<std::uint64_t, Error> propose(std::string data);
  // Starts an election now (tests and operators); a no-op on a leader.
  void campaign();
  // Hands leadership to `to` once it is up to date; proposals wait until it is done or aborted
  // (after an election timeout).
  std::expected<void, Error> transfer_leadership(NodeId to);
  // The transport could not reach `peer`: back off to probing it.
  void report_unreachable(NodeId peer);
  // The snapshot sent to `peer` failed to arrive.
  void report_snapshot_failed(NodeId peer);
  // The caller saved its state machine as of `index` (<= applied): entries up to there are
  // dropped from memory and lagging followers get this snapshot instead.
  std::expected<void, Error> compact(std::uint64_t index, std::string data);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  Status status() const;
  Role role() const { return role_; }
  std::uint64_t term() const { return term_; }
  NodeId leader() const { return leader_; }
  NodeId id() const { return config_.id; }
  const Log& log() const { return log_; }
  const HardState hard_state() const {
    return {term_, vote_, log_.committed(), log_.committed_ns()};
  }

 private:
  struct Progress {
    enum class State : std::uint8_t { probe, replicate, snapshot };
    std::uint64_t match = 0;
    std::uint64_t next = 1;
    State state = State::probe;
    bool probe_sent = false;              // probe: one append at a time
    std::vector<std::uint64_t> inflight;  // replicate: last index of each append in flight
    std::uint64_t pending_snapshot = 0;   // snapshot: its index
    int snapshot_waits = 0;               // snapshot: heartbeats answered without it
    bool active = false;
  };

  void become_follower(std::uint64_t term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(std::uint64_t term);
  void start_election(bool pre, bool transfer);
  bool tally(NodeId from, bool granted, bool& lost);

  void step_leader(const Message& message);
  void step_candidate(const Message& message);
  void step_follower(const Message& message);
  void handle_vote_request(const Message& message);
  void handle_append(const Message& message);
  void handle_heartbeat(const Message& message);
  void handle_snapshot(const Message& message);
  void handle_append_response(const Message& message);
  void handle_heartbeat_response(const Message& message, Progress& progress);

  Message to_peer(MessageType type, NodeId to) const;  // from this node, at its term
  void send(Message message);
  bool send_append(NodeId to, bool even_if_empty);
  void send_snapshot(NodeId to, Progress& progress);
  void broadcast_append();
  void broadcast_heartbeat();
  bool maybe_commit();
  bool paused(const Progress& progress) const;
  void become_probe(Progress& progress);
  bool quorum_active() const;
  std::size_t quorum() const { return config_.voters.size() / 2 + 1; }
  bool is_voter(NodeId id) const;
  void reset_election_timeout();

  Config config_;
  Log log_;
  std::uint64_t term_ = 0;
  NodeId vote_ = no_node;
  NodeId leader_ = no_node;
  Role role_ = Role::follower;
  std::map<NodeId, Progress> progress_;  // leader only, every voter including itself
  std::map<NodeId, bool> votes_;         // candidates: who answered and how
  NodeId transferee_ = no_node;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int election_timeout_ = 0;  // randomized
  std::uint64_t rng_;
  std::uint64_t uncommitted_bytes_ = 0;
  std::int64_t now_ns_ = 0;
  bool append_pending_ = false;  // proposals not yet broadcast: done once per Ready (batching)

  std::vector<Message> outbox_;
  std::shared_ptr<const Snapshot> snapshot_;  // the newest, sent to lagging followers
  std::optional<Snapshot> snapshot_to_persist_;
  HardState persisted_;  // as of the last Ready
};

}  // namespace mkt::raft
