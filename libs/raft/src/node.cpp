#include "mkt/raft/node.h"

#include <algorithm>
#include <utility>

#include "mkt/core/hash.h"
#include "mkt/core/invariant.h"

namespace mkt::raft {

namespace {

bool from_leader(MessageType type) {
  return type == MessageType::append || type == MessageType::heartbeat ||
         type == MessageType::snapshot;
}

// Peer input is checked here, never asserted: a malformed message changes nothing.
bool well_formed(const Message& m) {
  if (m.type == MessageType::snapshot) {
    return m.snapshot != nullptr && m.snapshot->meta.index > 0 && m.snapshot->meta.term > 0 &&
           m.snapshot->meta.term <= m.term;
  }
  if (m.type != MessageType::append) return m.entries.empty();
  std::uint64_t previous_term = m.log_term;
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& entry = m.entries[i];
    if (entry.index != m.index + 1 + i || entry.term < previous_term || entry.term > m.term) {
      return false;
    }
    previous_term = entry.term;
  }
  return true;
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::pre_candidate:
      return "pre-candidate";
    case Role::candidate:
      return "candidate";
    case Role::leader:
      return "leader";
  }
  return "unknown";
}

const char* to_string(MessageType type) {
  switch (type) {
    case MessageType::append:
      return "append";
    case MessageType::append_response:
      return "append_response";
    case MessageType::pre_vote:
      return "pre_vote";
    case MessageType::pre_vote_response:
      return "pre_vote_response";
    case MessageType::vote:
      return "vote";
    case MessageType::vote_response:
      return "vote_response";
    case MessageType::heartbeat:
      return "heartbeat";
    case MessageType::heartbeat_response:
      return "heartbeat_response";
    case MessageType::timeout_now:
      return "timeout_now";
    case MessageType::snapshot:
      return "snapshot";
  }
  return "unknown";
}

const char* to_string(Error error) {
  switch (error) {
    case Error::not_leader:
      return "not the leader";
    case Error::transferring:
      return "leadership transfer under way";
    case Error::busy:
      return "too many uncommitted bytes";
    case Error::unknown_node:
      return "unknown node";
    case Error::malformed:
      return "malformed message";
    case Error::bad_argument:
      return "bad argument";
  }
  return "unknown";
}

Node::Node(Config config, Restore restore)
    : config_(std::move(config)),
      log_(restore.snapshot ? restore.snapshot->meta.index : 0,
           restore.snapshot ? restore.snapshot->meta.term : 0, std::move(restore.entries),
           restore.hard_state.commit, std::move(restore.commit_marks)),
      term_(restore.hard_state.term),
      vote_(restore.hard_state.vote),
      rng_(config_.seed ^ (config_.id * 0x2545f4914f6cdd1dULL)),
      persisted_(restore.hard_state) {
  MKT_INVARIANT(is_voter(config_.id), "a node must be one of the voters");
  MKT_INVARIANT(config_.election_ticks > config_.heartbeat_ticks && config_.heartbeat_ticks > 0,
                "election timeout must exceed the heartbeat interval");
  auto sorted = config_.voters;
  std::ranges::sort(sorted);
  MKT_INVARIANT(std::ranges::adjacent_find(sorted) == sorted.end() && sorted.front() != no_node,
                "voters must be distinct node ids");
  if (restore.snapshot) snapshot_ = std::make_shared<const Snapshot>(std::move(*restore.snapshot));
  become_follower(term_, no_node);
}

bool Node::is_voter(NodeId id) const {
  return std::ranges::find(config_.voters, id) != config_.voters.end();
}

void Node::reset_election_timeout() {
  const auto span = static_cast<std::uint64_t>(config_.election_ticks);
  election_timeout_ = config_.election_ticks + static_cast<int>(core::splitmix64(rng_) % span);
}

void Node::reset(std::uint64_t term) {
  if (term != term_) {
    MKT_INVARIANT(term > term_, "the term never goes back");
    term_ = term;
    vote_ = no_node;
  }
  leader_ = no_node;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_election_timeout();
  transferee_ = no_node;
  votes_.clear();
  progress_.clear();
  uncommitted_bytes_ = 0;
  append_pending_ = false;
}

void Node::become_follower(std::uint64_t term, NodeId leader) {
  reset(term);
  role_ = Role::follower;
  leader_ = leader;
}

void Node::become_pre_candidate() {
  // Thesis 9.6: a pre-candidate changes neither its term nor its vote, so a node that cannot win
  // (partitioned away) never disrupts the cluster when it comes back.
  leader_ = no_node;
  votes_.clear();
  election_elapsed_ = 0;
  reset_election_timeout();
  role_ = Role::pre_candidate;
}

void Node::become_candidate() {
  reset(term_ + 1);
  vote_ = config_.id;
  role_ = Role::candidate;
}

void Node::become_leader() {
  reset(term_);
  role_ = Role::leader;
  leader_ = config_.id;
  for (NodeId voter : config_.voters) {
    Progress progress;
    progress.next = log_.last_index() + 1;
    if (voter == config_.id) progress.match = log_.stable();
    progress.active = voter == config_.id;
    progress_.emplace(voter, progress);
  }
  // Section 5.4.2: entries of earlier terms commit only under one of this term, so commit one.
  log_.append({Entry{term_, log_.last_index() + 1, EntryType::empty, {}}});
  append_pending_ = true;
}

void Node::start_election(bool pre, bool transfer) {
  if (pre) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
  bool lost = false;
  if (tally(config_.id, true, lost)) {  // a cluster of one
    if (pre) {
      start_election(false, transfer);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId voter : config_.voters) {
    if (voter == config_.id) continue;
    Message m;
    m.type = pre ? MessageType::pre_vote : MessageType::vote;
    m.to = voter;
    m.term = pre ? term_ + 1 : term_;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

bool Node::tally(NodeId from, bool granted, bool& lost) {
  votes_.try_emplace(from, granted);
  std::size_t yes = 0;
  std::size_t no = 0;
  for (const auto& [id, vote] : votes_) (vote ? yes : no) += 1;
  lost = no >= quorum();
  return yes >= quorum();
}

void Node::campaign() {
  if (role_ != Role::leader) start_election(config_.pre_vote, false);
}

void Node::tick() {
  if (role_ != Role::leader) {
    if (++election_elapsed_ >= election_timeout_) start_election(config_.pre_vote, false);
    return;
  }
  ++heartbeat_elapsed_;
  if (++election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    // Section 6.2: a leader that has not heard from a quorum within an election timeout steps
    // down, so clients find the real leader and its lease (see step) stays sound.
    if (config_.check_quorum) {
      if (!quorum_active()) {
        become_follower(term_, no_node);
        return;
      }
      for (auto& [id, progress] : progress_) progress.active = id == config_.id;
    }
    transferee_ = no_node;  // a transfer that did not finish in an election timeout is abandoned
  }
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

bool Node::quorum_active() const {
  std::size_t active = 0;
  for (const auto& [id, progress] : progress_) active += progress.active ? 1 : 0;
  return active >= quorum();
}

std::expected<void, Error> Node::step(const Message& m) {
  if (m.to != config_.id || m.from == config_.id || !is_voter(m.from)) {
    return std::unexpected(Error::unknown_node);
  }
  if (!well_formed(m)) return std::unexpected(Error::malformed);

  const bool vote_request = m.type == MessageType::vote || m.type == MessageType::pre_vote;
  if (m.term > term_) {
    // The lease (6.2, 9.6): while a leader is known and heard from recently, a higher-term vote
    // request comes from a node that cannot reach it; ignoring it keeps the leader in place.
    const bool in_lease =
        config_.check_quorum && leader_ != no_node && election_elapsed_ < config_.election_ticks;
    if (vote_request && in_lease && !m.transfer) return {};
    const bool future_term_granted = m.type == MessageType::pre_vote_response && !m.reject;
    if (m.type != MessageType::pre_vote && !future_term_granted) {
      become_follower(m.term, from_leader(m.type) ? m.from : no_node);
    }
  } else if (m.term < term_) {
    // A stale leader learns the newer term from the answer and steps down; with check-quorum or
    // pre-vote a partitioned node's term may be behind, and this is how it catches up.
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::append || m.type == MessageType::heartbeat)) {
      send(to_peer(MessageType::append_response, m.from));
    } else if (m.type == MessageType::pre_vote) {
      Message answer = to_peer(MessageType::pre_vote_response, m.from);
      answer.reject = true;
      send(std::move(answer));
    }
    return {};
  }

  if (vote_request) {
    handle_vote_request(m);
    return {};
  }
  // An answer about entries this leader never had (a peer's bug, or a forgery) is refused:
  // trusted, it would move the follower's progress past the log's end, and the next append would
  // take that for a compacted prefix and reach for a snapshot that may not exist (found by
  // raft_step_fuzz, an acknowledgement and a rejection alike).
  if (role_ == Role::leader && m.type == MessageType::append_response &&
      m.index > log_.last_index()) {
    return std::unexpected(Error::malformed);
  }
  switch (role_) {
    case Role::leader:
      step_leader(m);
      break;
    case Role::pre_candidate:
    case Role::candidate:
      step_candidate(m);
      break;
    case Role::follower:
      step_follower(m);
      break;
  }
  return {};
}

void Node::handle_vote_request(const Message& m) {
  const bool pre = m.type == MessageType::pre_vote;
  const bool can_vote =
      vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  Message answer;
  answer.type = pre ? MessageType::pre_vote_response : MessageType::vote_response;
  answer.to = m.from;
  if (can_vote && log_.up_to_date(m.index, m.log_term)) {
    answer.term = m.term;  // a pre-vote is granted for the term it asks about
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    answer.term = term_;
    answer.reject = true;
  }
  send(std::move(answer));
}

void Node::step_leader(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  Progress& progress = it->second;
  switch (m.type) {
    case MessageType::append_response:
      progress.active = true;
      handle_append_response(m);
      break;
    case MessageType::heartbeat_response:
      progress.active = true;
      handle_heartbeat_response(m, progress);
      break;
    default:
      break;  // votes after winning, a stale leader's messages of this term: nothing to do
  }
}

// Appends lost on the way show up here: each heartbeat names the last entry sent before it (or the
// snapshot), and the follower says whether it holds it. On an ordered transport a miss means a
// loss, and the pipeline restarts from what is known to match; on a reordering one it may be an
// overtaken message, and the restart only costs a resend.
void Node::handle_heartbeat_response(const Message& m, Progress& progress) {
  progress.probe_sent = false;
  switch (progress.state) {
    case Progress::State::replicate:
      if (m.reject) become_probe(progress);
      break;
    case Progress::State::snapshot:
      if (!m.reject) {
        become_probe(progress);  // installed; its answer was lost
      } else if (++progress.snapshot_waits >= config_.election_ticks) {
        progress.pending_snapshot = 0;  // lost: send it again
        become_probe(progress);
      }
      break;
    case Progress::State::probe:
      break;
  }
  if (progress.match < log_.last_index() && send_append(m.from, true)) {
    while (send_append(m.from, false)) {
    }
  }
}

void Node::handle_append_response(const Message& m) {
  Progress& progress = progress_.at(m.from);
  if (m.reject) {
    // The follower's hint jumps back over a whole conflicting term at once.
    std::uint64_t probe = std::min(m.reject_hint, log_.last_index());
    if (m.log_term > 0) probe = log_.last_index_with_term_at_most(m.reject_hint, m.log_term);
    const bool current = progress.state == Progress::State::replicate
                             ? m.index > progress.match
                             : m.index == progress.next - 1;
    if (!current) return;  // an answer to an append that has been superseded
    become_probe(progress);
    progress.next = std::max(std::min(m.index, probe + 1), progress.match + 1);
    send_append(m.from, true);
    return;
  }
  const bool was_paused = paused(progress);
  const bool updated = m.index > progress.match;
  if (updated) progress.match = m.index;
  progress.next = std::max(progress.next, m.index + 1);
  std::erase_if(progress.inflight, [&](std::uint64_t last) { return last <= m.index; });
  if (progress.state == Progress::State::probe || (progress.state == Progress::State::snapshot &&
                                                   progress.match >= progress.pending_snapshot)) {
    progress.state = Progress::State::replicate;
    progress.next = progress.match + 1;
    progress.probe_sent = false;
    progress.inflight.clear();
    progress.pending_snapshot = 0;
  }
  if (updated && maybe_commit()) {
    broadcast_append();                          // followers learn the new commit index
  } else if (send_append(m.from, was_paused)) {  // a paused follower may not know the commit yet
    while (send_append(m.from, false)) {
    }
  }
  if (m.from == transferee_ && progress.match == log_.last_index()) {
    send(to_peer(MessageType::timeout_now, m.from));
  }
}

void Node::step_candidate(const Message& m) {
  if (from_leader(m.type)) {
    become_follower(term_, m.from);  // someone won this term
    step_follower(m);
    return;
  }
  const MessageType wanted =
      role_ == Role::pre_candidate ? MessageType::pre_vote_response : MessageType::vote_response;
  if (m.type != wanted) return;
  bool lost = false;
  if (tally(m.from, !m.reject, lost)) {
    if (role_ == Role::pre_candidate) {
      start_election(false, false);
    } else {
      become_leader();
    }
  } else if (lost) {
    become_follower(term_, no_node);
  }
}

void Node::step_follower(const Message& m) {
  if (from_leader(m.type)) {
    election_elapsed_ = 0;
    leader_ = m.from;
  }
  switch (m.type) {
    case MessageType::append:
      handle_append(m);
      break;
    case MessageType::heartbeat:
      handle_heartbeat(m);
      break;
    case MessageType::snapshot:
      handle_snapshot(m);
      break;
    case MessageType::timeout_now:
      start_election(false, true);
      break;
    default:
      break;
  }
}

void Node::handle_append(const Message& m) {
  Message answer = to_peer(MessageType::append_response, m.from);
  if (m.index < log_.committed()) {
    answer.index = log_.committed();  // already have it: tell the leader where we stand
  } else if (auto last = log_.append_after(m.index, m.log_term, m.entries)) {
    log_.commit_to(std::min(m.commit, *last), m.commit_ns);
    answer.index = *last;
  } else {
    // Reject with the last entry that might match: the largest index at or before the leader's
    // whose term is not above the leader's term there (etcd's findConflictByTerm).
    answer.reject = true;
    answer.index = m.index;
    answer.reject_hint = log_.last_index_with_term_at_most(m.index, m.log_term);
    answer.log_term = log_.term(answer.reject_hint).value_or(0);
  }
  send(std::move(answer));
}

void Node::handle_heartbeat(const Message& m) {
  // The leader sends min(its commit, our match), so this never commits what we do not hold.
  log_.commit_to(std::min(m.commit, log_.last_index()), m.commit_ns);
  Message answer = to_peer(MessageType::heartbeat_response, m.from);
  answer.index = m.index;
  answer.reject = m.index > log_.committed() && !log_.matches(m.index, m.log_term);
  send(std::move(answer));
}

void Node::handle_snapshot(const Message& m) {
  const SnapshotMeta& meta = m.snapshot->meta;
  Message answer = to_peer(MessageType::append_response, m.from);
  if (meta.index <= log_.committed()) {
    answer.index = log_.committed();
  } else if (log_.matches(meta.index, meta.term)) {
    log_.commit_to(meta.index, m.commit_ns);  // we hold it already: fast-forward the commit
    answer.index = meta.index;
  } else {
    log_.restore(meta);
    snapshot_ = m.snapshot;
    snapshot_to_persist_ = *m.snapshot;
    answer.index = meta.index;
  }
  send(std::move(answer));
}

Message Node::to_peer(MessageType type, NodeId to) const {
  Message m;
  m.type = type;
  m.to = to;
  m.term = term_;
  return m;
}

void Node::send(Message message) {
  message.from = config_.id;
  outbox_.push_back(std::move(message));
}

bool Node::paused(const Progress& progress) const {
  switch (progress.state) {
    case Progress::State::probe:
      return progress.probe_sent;
    case Progress::State::replicate:
      return progress.inflight.size() >= config_.inflight_max;
    case Progress::State::snapshot:
      return true;
  }
  return true;
}

void Node::become_probe(Progress& progress) {
  progress.state = Progress::State::probe;
  progress.next = std::max(progress.match + 1, progress.pending_snapshot + 1);
  progress.probe_sent = false;
  progress.inflight.clear();
  progress.pending_snapshot = 0;
}

bool Node::send_append(NodeId to, bool even_if_empty) {
  Progress& progress = progress_.at(to);
  if (paused(progress)) return false;
  const std::uint64_t previous = progress.next - 1;
  const auto previous_term = log_.term(previous);
  if (!previous_term) {  // compacted away: only a snapshot can catch it up
    send_snapshot(to, progress);
    return false;
  }
  const bool nothing_new = progress.next > log_.last_index();
  if (nothing_new && !even_if_empty) return false;
  Message m = to_peer(MessageType::append, to);
  m.log_term = *previous_term;
  m.index = previous;
  m.commit = log_.committed();
  if (!nothing_new) {
    m.entries = log_.slice(progress.next, log_.last_index() + 1, config_.message_bytes_max);
  }
  // The follower commits up to what this message covers; date that step exactly.
  m.commit_ns = log_.committed_at(std::min(m.commit, previous + m.entries.size()));
  if (progress.state == Progress::State::probe) {
    progress.probe_sent = true;
  } else if (!m.entries.empty()) {  // replicate: pipeline, optimistically
    progress.next = m.entries.back().index + 1;
    progress.inflight.push_back(m.entries.back().index);
  }
  send(std::move(m));
  return !nothing_new;
}

void Node::send_snapshot(NodeId to, Progress& progress) {
  MKT_INVARIANT(snapshot_ != nullptr, "a compacted log always has a snapshot");
  progress.state = Progress::State::snapshot;
  progress.pending_snapshot = snapshot_->meta.index;
  progress.snapshot_waits = 0;
  progress.inflight.clear();
  Message m = to_peer(MessageType::snapshot, to);
  m.snapshot = snapshot_;
  send(std::move(m));
}

void Node::broadcast_append() {
  for (NodeId voter : config_.voters) {
    if (voter == config_.id) continue;
    if (!send_append(voter, true)) continue;
    while (send_append(voter, false)) {
    }
  }
}

void Node::broadcast_heartbeat() {
  for (const auto& [id, progress] : progress_) {
    if (id == config_.id) continue;
    Message m = to_peer(MessageType::heartbeat, id);
    m.commit = std::min(progress.match, log_.committed());
    m.commit_ns = log_.committed_at(m.commit);
    // The last entry sent to it (see handle_heartbeat_response).
    if (progress.state == Progress::State::snapshot) {
      m.index = progress.pending_snapshot;
      m.log_term = snapshot_->meta.term;
    } else {
      m.index = progress.next - 1;
      m.log_term = log_.term(m.index).value_or(0);  // 0 when compacted: it will need a snapshot
    }
    send(std::move(m));
  }
}

bool Node::maybe_commit() {
  std::vector<std::uint64_t> matches;
  for (const auto& [id, progress] : progress_) matches.push_back(progress.match);
  std::ranges::sort(matches, std::greater<>());
  const std::uint64_t candidate = matches[quorum() - 1];
  // Section 5.4.2: counting replicas commits only entries of the current term.
  if (candidate <= log_.committed() || log_.term(candidate) != term_) return false;
  for (std::uint64_t i = log_.committed() + 1; i <= candidate; ++i) {
    const std::size_t bytes = log_.entry(i).data.size();
    uncommitted_bytes_ -= std::min<std::uint64_t>(uncommitted_bytes_, bytes);
  }
  log_.commit_to(candidate, now_ns_);
  return true;
}

std::expected<std::uint64_t, Error> Node::propose(std::string data) {
  if (role_ != Role::leader) return std::unexpected(Error::not_leader);
  if (transferee_ != no_node) return std::unexpected(Error::transferring);
  if (uncommitted_bytes_ > 0 && uncommitted_bytes_ + data.size() > config_.uncommitted_bytes_max) {
    return std::unexpected(Error::busy);
  }
  const std::uint64_t index = log_.last_index() + 1;
  uncommitted_bytes_ += data.size();
  log_.append({Entry{term_, index, EntryType::normal, std::move(data)}});
  append_pending_ = true;
  return index;
}

std::expected<void, Error> Node::transfer_leadership(NodeId to) {
  if (role_ != Role::leader) return std::unexpected(Error::not_leader);
  if (!is_voter(to)) return std::unexpected(Error::unknown_node);
  if (to == config_.id) return std::unexpected(Error::bad_argument);
  transferee_ = to;
  election_elapsed_ = 0;  // the transfer has one election timeout to finish
  if (progress_.at(to).match == log_.last_index()) {
    send(to_peer(MessageType::timeout_now, to));
  } else {
    send_append(to, true);
  }
  return {};
}

void Node::report_unreachable(NodeId peer) {
  if (role_ != Role::leader) return;
  auto it = progress_.find(peer);
  if (it != progress_.end() && it->second.state == Progress::State::replicate) {
    become_probe(it->second);
  }
}

void Node::report_snapshot_failed(NodeId peer) {
  if (role_ != Role::leader) return;
  auto it = progress_.find(peer);
  if (it == progress_.end() || it->second.state != Progress::State::snapshot) return;
  it->second.pending_snapshot = 0;
  become_probe(it->second);
  it->second.probe_sent = true;  // retried after the next heartbeat answer
}

std::expected<void, Error> Node::compact(std::uint64_t index, std::string data) {
  if (index <= log_.snapshot_index() || index > log_.applied()) {
    return std::unexpected(Error::bad_argument);
  }
  const std::uint64_t term = *log_.term(index);
  log_.compact(index);
  snapshot_ = std::make_shared<const Snapshot>(
      Snapshot{SnapshotMeta{index, term, config_.voters}, std::move(data)});
  return {};
}

bool Node::has_ready() const {
  return append_pending_ || !outbox_.empty() || hard_state() != persisted_ ||
         snapshot_to_persist_.has_value() || log_.stable() < log_.last_index() ||
         log_.applied() < log_.committed();
}

Ready Node::ready() {
  if (append_pending_) {
    append_pending_ = false;
    if (role_ == Role::leader) broadcast_append();  // one batch per follower per Ready
  }
  Ready ready;
  if (hard_state() != persisted_) ready.hard_state = hard_state();
  ready.snapshot = std::exchange(snapshot_to_persist_, std::nullopt);
  ready.entries = log_.unstable();
  ready.committed = log_.to_apply();
  ready.messages = std::exchange(outbox_, {});
  ready.must_sync = !ready.entries.empty() || ready.snapshot.has_value() ||
                    (ready.hard_state && (ready.hard_state->term != persisted_.term ||
                                          ready.hard_state->vote != persisted_.vote));
  return ready;
}

void Node::advance(const Ready& ready) {
  if (ready.hard_state) persisted_ = *ready.hard_state;
  if (!ready.entries.empty()) log_.stable_to(ready.entries.back().index, ready.entries.back().term);
  if (!ready.committed.empty()) log_.applied_to(ready.committed.back().index);
  if (role_ == Role::leader) {
    Progress& self = progress_.at(config_.id);
    if (log_.stable() > self.match) {
      self.match = log_.stable();
      if (maybe_commit()) broadcast_append();
    }
  }
}

Status Node::status() const {
  Status status{.id = config_.id,
                .role = role_,
                .term = term_,
                .leader = leader_,
                .commit = log_.committed(),
                .applied = log_.applied(),
                .last_index = log_.last_index(),
                .first_index = log_.first_index(),
                .peers = {}};
  for (const auto& [id, progress] : progress_) {
    status.peers.push_back({id, progress.match, progress.next, progress.active});
  }
  return status;
}

}  // namespace mkt::raft
