#include "validator.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "mkt/core/enum_table.h"
#include "mkt/core/invariant.h"
#include "mkt/runtime/clock.h"

namespace mkt::validatord {

namespace lpb = market::ledger::v1;
namespace rpb = market::consensus::raft::v1;
using grpc::Status;
using grpc::StatusCode;

namespace {

constexpr auto roles = core::enum_table<raft::Role, lpb::ValidatorStatus::Role>(
    {{raft::Role::follower, lpb::ValidatorStatus::ROLE_FOLLOWER},
     {raft::Role::pre_candidate, lpb::ValidatorStatus::ROLE_PRE_CANDIDATE},
     {raft::Role::candidate, lpb::ValidatorStatus::ROLE_CANDIDATE},
     {raft::Role::leader, lpb::ValidatorStatus::ROLE_LEADER}});

lpb::ValidatorStatus::Role to_proto(raft::Role role) {
  return roles.second_of(role).value_or(lpb::ValidatorStatus::ROLE_UNSPECIFIED);
}

TransportOptions transport_options(const ValidatorOptions& options) {
  TransportOptions transport = options.transport;
  transport.node_id = options.node_id;
  return transport;
}

raft::Config raft_config(const ValidatorOptions& options, const Roster& roster) {
  raft::Config config;
  config.id = roster.id_of(options.node_id);
  config.voters = roster.ids();
  config.election_ticks = options.election_ticks;
  config.heartbeat_ticks = 1;
  config.seed = options.seed;
  return config;
}

ledger::Ledger initial_ledger(const raft::Restore& restore, std::size_t trades_kept_max) {
  if (!restore.snapshot) return ledger::Ledger(trades_kept_max);
  auto loaded = ledger::Ledger::load(restore.snapshot->data, trades_kept_max);
  MKT_INVARIANT(loaded.has_value(), "the stored snapshot's ledger must load");
  return std::move(*loaded);
}

}  // namespace

Validator::Validator(Strand strand, ValidatorOptions options, runtime::AddressBook& addresses,
                     RaftStorage& storage, raft::Restore restore, metrics::Registry& registry,
                     const runtime::Clock& clock)
    : strand_(std::move(strand)),
      options_(std::move(options)),
      roster_(options_.validators),
      clock_(clock),
      writer_(storage, strand_),
      wal_bytes_(storage.wal_bytes()),
      node_(raft_config(options_, roster_), restore),
      transport_(strand_, transport_options(options_), roster_, addresses, registry,
                 [this](raft::NodeId peer, bool snapshot) {
                   node_.report_unreachable(peer);
                   if (snapshot) node_.report_snapshot_failed(peer);
                   schedule_ready();
                 }),
      timer_(strand_),
      metrics_{
          .applied_entries =
              &registry.counter("raft_applied_entries_total", "Log entries applied."),
          .rejected = &registry.counter("raft_rejected_messages_total",
                                        "Peer messages refused as malformed or misaddressed."),
          .snapshots_taken = &registry.counter("raft_snapshots_taken_total", "Local compactions."),
          .snapshots_installed = &registry.counter("raft_snapshots_installed_total",
                                                   "Snapshots received and installed."),
          .leader_changes =
              &registry.counter("raft_leader_changes_total", "Times the known leader changed."),
          .term = &registry.gauge("raft_term", "Current term."),
          .commit_index = &registry.gauge("raft_commit_index", "Highest committed log index."),
          .is_leader = &registry.gauge("raft_is_leader", "1 on the leader."),
          .sync_latency =
              &registry.histogram("raft_storage_sync_seconds",
                                  "Persisting one Ready that must be durable (write and sync).",
                                  metrics::exponential_bounds(10'000, 2, 10'000'000'000), 1e9),
      },
      ledger_(strand_, options_.ledger, initial_ledger(restore, options_.ledger.trades_kept_max),
              *this, addresses, registry, clock),
      raft_(
          strand_, options_.validator_keys,
          [this](const rpb::Envelope& envelope) { receive(envelope); }, *metrics_.rejected) {}

Validator::~Validator() = default;

void Validator::start() {
  next_tick_ = std::chrono::steady_clock::now() + options_.tick;
  timer_.expires_at(next_tick_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
  after_step();
}

void Validator::stop() {
  stopped_ = true;
  timer_.cancel();
  transport_.stop();
  ledger_.stop();
}

void Validator::tick() {
  if (stopped_) return;
  node_.set_time(clock_.wall_ns());
  node_.tick();
  after_step();
  process_ready();
  next_tick_ += options_.tick;
  const auto now = std::chrono::steady_clock::now();
  if (next_tick_ < now) next_tick_ = now;  // behind (a long sync): skip, do not burst
  timer_.expires_at(next_tick_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void Validator::schedule_ready() {
  if (ready_posted_) return;
  ready_posted_ = true;
  boost::asio::post(strand_, [this] {
    ready_posted_ = false;
    if (!stopped_) process_ready();
  });
}

void Validator::fatal(const std::string& what) {
  // The node would be ahead of its disk: stop before acknowledging anything more.
  spdlog::critical("{}; stopping at once", what);
  spdlog::default_logger()->flush();
  std::_Exit(1);
}

// A leader's Ready that must be synced goes to the writer, one at a time; what steps in meanwhile
// (submissions, acknowledgements) waits in the node for the next one, so a busy leader syncs many
// proposals at once, and its appends go out before its own sync, which then overlaps the
// followers' (thesis 10.2.1). Every other Ready is written here: one that needs no sync is a
// page-cache write, and a follower's messages wait for its disk anyway (they promise what is on
// it), so handing its sync to the thread would only add two thread hand-offs to every commit.
// A snapshot received from the leader (megabytes to write) goes to the writer too.
void Validator::process_ready() {
  while (!writing_ && !stopped_) {
    if (!node_.has_ready()) {
      transport_.flush();
      maybe_compact();
      after_step();
      return;
    }
    auto ready = std::make_shared<raft::Ready>(node_.ready());
    const bool leader = node_.role() == raft::Role::leader && !ready->snapshot;
    if (leader) {
      for (const raft::Message& message : ready->messages) transport_.send(message);
      transport_.flush();
    }
    const auto started = clock_.steady_ns();
    const bool syncs = writer_.syncs(*ready);
    if (!syncs || (!leader && !ready->snapshot)) {
      auto written = writer_.save_here(*ready);
      if (syncs) metrics_.sync_latency->observe(clock_.steady_ns() - started);
      saved(*ready, leader, std::move(written));
      continue;
    }
    writing_ = true;
    writer_.save(ready, [this, ready, leader, started](auto written) {
      writing_ = false;
      metrics_.sync_latency->observe(clock_.steady_ns() - started);
      saved(*ready, leader, std::move(written));
      process_ready();
    });
  }
}

void Validator::saved(const raft::Ready& ready, bool leader,
                      std::expected<std::uint64_t, std::string> written) {
  if (!written) fatal("storage: " + written.error());
  wal_bytes_ = *written;
  if (stopped_) return;  // on disk; a restart recovers it
  finish_ready(ready, leader);
}

// Steps 1 (the state machine's half), 3, 4 and 5 of the Ready contract, once it is on disk.
void Validator::finish_ready(const raft::Ready& ready, bool leader) {
  if (ready.snapshot) {
    const raft::Snapshot& snapshot = *ready.snapshot;
    if (auto installed = ledger_.install(snapshot.data, snapshot.meta.index); !installed) {
      fatal("a snapshot from the leader does not load: " + installed.error());
    }
    metrics_.snapshots_installed->add();
  }
  if (!leader) {
    for (const raft::Message& message : ready.messages) transport_.send(message);
  }
  for (const raft::Entry& entry : ready.committed) {
    metrics_.applied_entries->add();
    ledger_.apply(entry);
  }
  node_.set_time(clock_.wall_ns());
  node_.advance(ready);
}

void Validator::after_step() {
  metrics_.term->set(static_cast<std::int64_t>(node_.term()));
  metrics_.commit_index->set(static_cast<std::int64_t>(node_.log().committed()));
  metrics_.is_leader->set(node_.role() == raft::Role::leader ? 1 : 0);
  transport_.calling_all(node_.role() != raft::Role::follower);
  if (node_.leader() == known_leader_ && node_.term() == known_term_) return;
  if (node_.role() == raft::Role::leader) {
    const raft::Log& log = node_.log();
    std::vector<const raft::Entry*> unapplied;
    for (std::uint64_t index = log.applied() + 1; index <= log.last_index(); ++index) {
      unapplied.push_back(&log.entry(index));
    }
    ledger_.gained_leadership(unapplied);
  } else {
    ledger_.lost_leadership();
  }
  if (node_.leader() != known_leader_ && node_.leader() != raft::no_node) {
    metrics_.leader_changes->add();
    spdlog::info("term {}: leader is {}{}", node_.term(), roster_.name_of(node_.leader()),
                 node_.role() == raft::Role::leader ? " (this validator)" : "");
  }
  known_leader_ = node_.leader();
  known_term_ = node_.term();
  publish_leader();
}

void Validator::publish_leader() {
  runtime::TelemetryService* telemetry = options_.telemetry;
  if (telemetry == nullptr || !telemetry->wants(runtime::TelemetryService::Event::kLeaderChange)) {
    return;
  }
  runtime::TelemetryService::Event event;
  auto* change = event.mutable_leader_change();
  change->set_protocol("raft");
  change->set_term(known_term_);
  if (known_leader_ != raft::no_node) change->set_leader_id(roster_.name_of(known_leader_));
  telemetry->publish(std::move(event));
}

// Only when idle (no write in flight, no Ready pending: every entry is on disk). The ledger is
// serialised here, on the strand; the snapshot and the log's rewrite are the writer's.
void Validator::maybe_compact() {
  const raft::Log& log = node_.log();
  const std::uint64_t applied = log.applied();
  const std::uint64_t since = applied - log.snapshot_index();
  if (since == 0 || (since < options_.compact_entries && wal_bytes_ < options_.compact_wal_bytes)) {
    return;
  }
  MKT_INVARIANT(ledger_.ledger().applied_index() == applied, "the ledger is at the applied index");
  std::string data = ledger_.ledger().save();
  if (auto ok = node_.compact(applied, data); !ok) return;
  std::vector<raft::Entry> after;
  if (log.last_index() > applied) after = log.slice(applied + 1, log.last_index() + 1, SIZE_MAX);
  raft::Snapshot snapshot{raft::SnapshotMeta{applied, log.snapshot_term(), roster_.ids()},
                          std::move(data)};
  writing_ = true;
  writer_.compact(std::move(snapshot), node_.hard_state(), std::move(after),
                  log.marks_after(applied), [this, applied](auto written) {
                    writing_ = false;
                    if (!written) fatal("compaction: " + written.error());
                    wal_bytes_ = *written;
                    metrics_.snapshots_taken->add();
                    spdlog::debug("compacted the log at index {}", applied);
                    if (!stopped_) process_ready();
                  });
}

// ---- the Sequencer, for the Ledger service ----

bool Validator::leads() const {
  return node_.role() == raft::Role::leader;
}

std::string Validator::leader() const {
  return roster_.name_of(node_.leader());
}

std::expected<void, Status> Validator::propose(std::string batch) {
  auto index = node_.propose(std::move(batch));
  if (!index) {
    const bool busy = index.error() == raft::Error::busy;
    return std::unexpected(Status(
        busy ? StatusCode::RESOURCE_EXHAUSTED : StatusCode::UNAVAILABLE,
        std::string("cannot propose now: ") + raft::to_string(index.error()) + "; retry shortly"));
  }
  schedule_ready();
  return {};
}

std::uint64_t Validator::term_of(std::uint64_t index) const {
  return node_.log().term(index).value_or(0);
}

std::uint64_t Validator::first_index() const {
  return node_.log().first_index();
}

const raft::Entry& Validator::entry(std::uint64_t index) const {
  return node_.log().entry(index);
}

std::int64_t Validator::committed_at(std::uint64_t index) const {
  return node_.log().committed_at(index);
}

void Validator::describe(lpb::ClusterStatus& answer) const {
  const raft::Status status = node_.status();
  runtime::stamp(*answer.mutable_header(), options_.node_id);
  answer.set_protocol("raft");
  answer.set_term(status.term);
  answer.set_leader_id(roster_.name_of(status.leader));
  answer.set_commit_index(status.commit);
  answer.set_first_index(status.first_index);
  for (raft::NodeId id : roster_.ids()) {
    auto* validator = answer.add_validators();
    validator->set_node_id(roster_.name_of(id));
    if (id == status.id) {
      validator->set_role(to_proto(status.role));
    } else if (id == status.leader) {
      validator->set_role(lpb::ValidatorStatus::ROLE_LEADER);
    } else {
      validator->set_role(lpb::ValidatorStatus::ROLE_FOLLOWER);
    }
    for (const raft::PeerStatus& peer : status.peers) {
      if (peer.id == id) validator->set_match_index(peer.match);
    }
  }
}

// ---- the Raft service ----

void Validator::receive(const rpb::Envelope& envelope) {
  if (stopped_) return;
  node_.set_time(clock_.wall_ns());
  for (const rpb::Message& wire : envelope.messages()) {
    auto message = from_proto(wire, roster_);
    if (!message) {
      metrics_.rejected->add();
      spdlog::debug("refused a message from {}: {}", envelope.header().sender(), message.error());
      continue;
    }
    if (auto stepped = node_.step(*message); !stepped) {
      metrics_.rejected->add();
      spdlog::debug("refused a {} from {}: {}", raft::to_string(message->type), wire.from(),
                    raft::to_string(stepped.error()));
    }
  }
  // At once, not when the disk is next idle: a new leader must know the batches it inherited
  // before it takes a submission, and a deposed one must fail its waiters.
  after_step();
  schedule_ready();
}

}  // namespace mkt::validatord
