#include "validator.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "mkt/core/invariant.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/clock.h"
#include "validator_service.h"

namespace mkt::validatord {

namespace lpb = market::ledger::v1;
namespace rpb = market::consensus::raft::v1;
using grpc::Status;
using grpc::StatusCode;

namespace {

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
                     RaftStorage& storage, raft::Restore restore, metrics::Registry& registry)
    : strand_(std::move(strand)),
      options_(std::move(options)),
      roster_(options_.validators),
      addresses_(addresses),
      writer_(storage, strand_),
      wal_bytes_(storage.wal_bytes()),
      node_(raft_config(options_, roster_), restore),
      ledger_(initial_ledger(restore, options_.trades_kept_max)),
      transport_(
          strand_, transport_options(options_), roster_, addresses,
          registry.counter("raft_peer_send_failures_total", "Envelopes to peers that failed."),
          registry.counter("raft_peer_dropped_messages_total",
                           "Messages dropped: queue full or peer address unknown."),
          [this](raft::NodeId peer, bool snapshot) {
            node_.report_unreachable(peer);
            if (snapshot) node_.report_snapshot_failed(peer);
            schedule_ready();
          }),
      timer_(strand_),
      ledger_api_(std::make_unique<LedgerApi>(*this)),
      raft_api_(std::make_unique<RaftApi>(*this)) {
  const auto latency_bounds = metrics::exponential_bounds(10'000, 2, 10'000'000'000);
  metrics_ = Metrics{
      .proposals = &registry.counter("ledger_proposals_total", "Trade batches proposed."),
      .applied_entries = &registry.counter("raft_applied_entries_total", "Log entries applied."),
      .trades = &registry.counter("ledger_trades_total", "Trades applied to the ledger."),
      .duplicates = &registry.counter("ledger_duplicate_batches_total",
                                      "Batches applied again and ignored (retries)."),
      .rejected = &registry.counter("raft_rejected_messages_total",
                                    "Peer messages refused as malformed or misaddressed."),
      .snapshots_taken = &registry.counter("raft_snapshots_taken_total", "Local compactions."),
      .snapshots_installed =
          &registry.counter("raft_snapshots_installed_total", "Snapshots received and installed."),
      .leader_changes =
          &registry.counter("raft_leader_changes_total", "Times the known leader changed."),
      .term = &registry.gauge("raft_term", "Current term."),
      .commit_index = &registry.gauge("raft_commit_index", "Highest committed log index."),
      .is_leader = &registry.gauge("raft_is_leader", "1 on the leader."),
      .waiting = &registry.gauge("ledger_waiting_submissions", "Submissions awaiting commit."),
      .commit_latency = &registry.histogram(
          "ledger_commit_seconds", "From a batch's submission to its answer.", latency_bounds, 1e9),
      .sync_latency =
          &registry.histogram("raft_storage_sync_seconds", "Persisting one Ready (write and sync).",
                              latency_bounds, 1e9),
  };
}

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
  fail_waiters("the validator is shutting down");
  for (Subscriber& subscriber : subscribers_) {
    subscriber.stream->finish(Status(StatusCode::UNAVAILABLE, "the validator is shutting down"));
  }
}

void Validator::tick() {
  if (stopped_) return;
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

// One Ready at a time goes to the writer; what steps in meanwhile waits in the node for the next
// one, so a busy leader syncs many proposals at once. A leader's appends go out before its own
// sync, which then overlaps the followers' (thesis 10.2.1); everyone else's messages promise what
// is on disk, so they wait for the write.
void Validator::process_ready() {
  if (writing_ || stopped_) return;
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
  writing_ = true;
  const auto started = runtime::steady_ns();
  writer_.save(ready, [this, ready, leader, started](auto written) {
    writing_ = false;
    if (!written) fatal("storage: " + written.error());
    wal_bytes_ = *written;
    if (ready->hard_state || !ready->entries.empty()) {
      metrics_.sync_latency->observe(runtime::steady_ns() - started);
    }
    if (stopped_) return;  // on disk; a restart recovers it
    finish_ready(*ready, leader);
    process_ready();
  });
}

// Steps 1 (the state machine's half), 3, 4 and 5 of the Ready contract, once it is on disk.
void Validator::finish_ready(const raft::Ready& ready, bool leader) {
  if (ready.snapshot) install_snapshot(*ready.snapshot);
  if (!leader) {
    for (const raft::Message& message : ready.messages) transport_.send(message);
  }
  for (const raft::Entry& entry : ready.committed) apply(entry);
  node_.advance(ready);
}

void Validator::install_snapshot(const raft::Snapshot& snapshot) {
  auto loaded = ledger::Ledger::load(snapshot.data, options_.trades_kept_max);
  if (!loaded) fatal("a snapshot from the leader does not load: " + loaded.error());
  ledger_ = std::move(*loaded);
  metrics_.snapshots_installed->add();
  spdlog::info("installed a snapshot at index {} from the leader", snapshot.meta.index);
  for (Subscriber& subscriber : subscribers_) {
    if (subscriber.next_index <= snapshot.meta.index) {
      subscriber.stream->finish(Status(
          StatusCode::OUT_OF_RANGE,
          "this validator installed a snapshot at index " + std::to_string(snapshot.meta.index) +
              "; entries before it are not kept here, subscribe again from after it"));
    }
  }
}

void Validator::after_step() {
  metrics_.term->set(static_cast<std::int64_t>(node_.term()));
  metrics_.commit_index->set(static_cast<std::int64_t>(node_.log().committed()));
  metrics_.is_leader->set(node_.role() == raft::Role::leader ? 1 : 0);
  metrics_.waiting->set(static_cast<std::int64_t>(waiting_));
  if (node_.leader() == known_leader_ && node_.term() == known_term_) return;
  if (node_.role() == raft::Role::leader) {
    track_inherited_batches();
  } else {
    // Proposals of a lost term may or may not commit; the client retries and the ledger answers
    // DUPLICATE if it did.
    fail_waiters("leadership changed before the batch committed; retry");
  }
  if (node_.leader() != known_leader_ && node_.leader() != raft::no_node) {
    metrics_.leader_changes->add();
    spdlog::info("term {}: leader is {}{}", node_.term(), roster_.name_of(node_.leader()),
                 node_.role() == raft::Role::leader ? " (this validator)" : "");
  }
  known_leader_ = node_.leader();
  known_term_ = node_.term();
}

// A new leader's log may hold batches proposed by the one before it and not applied yet; they
// will commit now. Counting them as in flight makes an exchange's retry wait for that entry
// instead of proposing the batch a second time.
void Validator::track_inherited_batches() {
  const raft::Log& log = node_.log();
  for (std::uint64_t index = log.applied() + 1; index <= log.last_index(); ++index) {
    const raft::Entry& entry = log.entry(index);
    if (entry.type != raft::EntryType::normal) continue;
    if (auto batch = ledger::decode(entry.data)) {
      auto& highest = proposed_[batch->exchange_id];
      highest = std::max(highest, batch->sequence);
    }
  }
}

void Validator::fail_waiters(const std::string& why) {
  for (auto& [key, waiters] : waiters_) {
    for (Waiter& waiter : waiters) waiter.responder.finish(Status(StatusCode::UNAVAILABLE, why));
  }
  waiters_.clear();
  waiting_ = 0;
  proposed_.clear();
}

// ---- Ledger ----

runtime::Metadata Validator::leader_hint() {
  const std::string& leader = roster_.name_of(node_.leader());
  runtime::Metadata hint{{"x-leader-id", leader}};
  if (auto address = addresses_.address_of(leader)) hint.emplace_back("x-leader-address", *address);
  return hint;
}

void Validator::submit(const lpb::TradeBatch& request, SubmitResponder responder) {
  if (stopped_) {
    responder.finish(Status(StatusCode::UNAVAILABLE, "the validator is shutting down"));
    return;
  }
  if (request.trades_size() > static_cast<int>(ledger::batch_trades_max)) {
    responder.finish(
        Status(StatusCode::RESOURCE_EXHAUSTED,
               "a batch holds at most " + std::to_string(ledger::batch_trades_max) + " trades"));
    return;
  }
  ledger::Batch batch = from_proto(request);
  if (auto ok = ledger::check(batch); !ok) {
    responder.finish(Status(StatusCode::INVALID_ARGUMENT, ok.error()));
    return;
  }
  if (node_.role() != raft::Role::leader) {
    if (node_.leader() == raft::no_node) {
      responder.finish(Status(StatusCode::UNAVAILABLE, "no leader yet; retry with backoff"));
    } else {
      responder.finish(Status(StatusCode::FAILED_PRECONDITION,
                              "not the leader; the leader is " + roster_.name_of(node_.leader())),
                       {}, leader_hint());
    }
    return;
  }
  const std::string& exchange = batch.exchange_id;
  const std::uint64_t next = ledger_.next_sequence(exchange);
  if (batch.sequence < next) {
    lpb::SubmitTradeBatchResponse answer;
    answer.set_outcome(lpb::SubmitTradeBatchResponse::OUTCOME_DUPLICATE);
    if (auto index = ledger_.index_of(exchange, batch.sequence)) {
      answer.set_index(*index);
      answer.set_term(node_.log().term(*index).value_or(0));
    }
    metrics_.duplicates->add();
    responder.finish(Status::OK, std::move(answer));
    return;
  }
  const auto in_flight = proposed_.find(exchange);
  const std::uint64_t highest =
      std::max(next - 1, in_flight == proposed_.end() ? 0 : in_flight->second);
  if (batch.sequence > highest + 1) {
    responder.finish(Status(StatusCode::FAILED_PRECONDITION,
                            "batch " + std::to_string(batch.sequence) + " of " + exchange +
                                " skips ahead; the next is " + std::to_string(highest + 1)),
                     {}, {{"x-expected-sequence", std::to_string(highest + 1)}});
    return;
  }
  if (waiting_ >= options_.waiting_submissions_max) {
    responder.finish(Status(StatusCode::RESOURCE_EXHAUSTED,
                            "too many batches wait for their commit; retry shortly"));
    return;
  }
  if (batch.sequence == highest + 1) {  // new: propose it (otherwise it is in flight already)
    auto index = node_.propose(ledger::encode(batch));
    if (!index) {
      const bool busy = index.error() == raft::Error::busy;
      responder.finish(Status(busy ? StatusCode::RESOURCE_EXHAUSTED : StatusCode::UNAVAILABLE,
                              std::string("cannot propose now: ") + raft::to_string(index.error()) +
                                  "; retry shortly"));
      return;
    }
    proposed_[exchange] = batch.sequence;
    metrics_.proposals->add();
    schedule_ready();
  }
  waiters_[{exchange, batch.sequence}].push_back(
      {std::move(responder), std::chrono::steady_clock::now()});
  ++waiting_;
}

void Validator::answer_waiters(const std::string& exchange, std::uint64_t sequence,
                               const Status& status, const lpb::SubmitTradeBatchResponse& response,
                               const runtime::Metadata& trailing) {
  auto it = waiters_.find({exchange, sequence});
  if (it == waiters_.end()) return;
  const auto now = std::chrono::steady_clock::now();
  for (Waiter& waiter : it->second) {
    metrics_.commit_latency->observe(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - waiter.since).count());
    waiter.responder.finish(status, response, trailing);
    --waiting_;
  }
  waiters_.erase(it);
}

void Validator::apply(const raft::Entry& entry) {
  metrics_.applied_entries->add();
  if (entry.type == raft::EntryType::empty) {
    ledger_.skip(entry.index);
  } else if (auto batch = ledger::decode(entry.data); !batch) {
    // Every replica decodes the same bytes the same way, so every replica skips it.
    spdlog::error("entry {} holds no valid batch ({}); skipped", entry.index, batch.error());
    ledger_.skip(entry.index);
  } else {
    const ledger::Applied applied = ledger_.apply(entry.index, *batch);
    lpb::SubmitTradeBatchResponse answer;
    answer.set_index(applied.index);
    answer.set_term(entry.term);
    switch (applied.outcome) {
      case ledger::Outcome::committed:
        metrics_.trades->add(batch->trades.size());
        answer.set_outcome(lpb::SubmitTradeBatchResponse::OUTCOME_COMMITTED);
        answer_waiters(batch->exchange_id, batch->sequence, Status::OK, answer);
        break;
      case ledger::Outcome::duplicate:
        metrics_.duplicates->add();
        answer.set_outcome(lpb::SubmitTradeBatchResponse::OUTCOME_DUPLICATE);
        answer_waiters(batch->exchange_id, batch->sequence, Status::OK, answer);
        break;
      case ledger::Outcome::out_of_order:
        answer_waiters(batch->exchange_id, batch->sequence,
                       Status(StatusCode::FAILED_PRECONDITION, "batch skips ahead"), answer,
                       {{"x-expected-sequence", std::to_string(applied.expected_sequence)}});
        break;
    }
    auto in_flight = proposed_.find(batch->exchange_id);
    if (in_flight != proposed_.end() && in_flight->second <= batch->sequence) {
      proposed_.erase(in_flight);
    }
  }
  for (Subscriber& subscriber : subscribers_) feed(subscriber);
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
  MKT_INVARIANT(ledger_.applied_index() == applied, "the ledger is at the applied index");
  std::string data = ledger_.save();
  if (auto ok = node_.compact(applied, data); !ok) return;
  std::vector<raft::Entry> after;
  if (log.last_index() > applied) after = log.slice(applied + 1, log.last_index() + 1, SIZE_MAX);
  raft::Snapshot snapshot{raft::SnapshotMeta{applied, log.snapshot_term(), roster_.ids()},
                          std::move(data)};
  writing_ = true;
  writer_.compact(std::move(snapshot), node_.hard_state(), std::move(after),
                  [this, applied](auto written) {
                    writing_ = false;
                    if (!written) fatal("compaction: " + written.error());
                    wal_bytes_ = *written;
                    metrics_.snapshots_taken->add();
                    spdlog::debug("compacted the log at index {}", applied);
                    if (!stopped_) process_ready();
                  });
}

void Validator::feed(Subscriber& subscriber) {
  const raft::Log& log = node_.log();
  while (subscriber.next_index <= ledger_.applied_index() && subscriber.stream->open()) {
    if (subscriber.next_index < log.first_index()) {
      subscriber.stream->finish(
          Status(StatusCode::OUT_OF_RANGE, "the stream fell behind the log's compaction"));
      return;
    }
    const raft::Entry& entry = log.entry(subscriber.next_index);
    auto message = std::make_shared<lpb::CommittedEntry>();
    message->set_index(entry.index);
    message->set_term(entry.term);
    message->set_committed_at_ns(runtime::wall_clock_ns());
    if (entry.type == raft::EntryType::empty) {
      message->set_internal("leader no-op");
    } else if (auto batch = ledger::decode(entry.data)) {
      to_proto(*batch, *message->mutable_batch());
    } else {
      message->set_internal("invalid batch, skipped");
    }
    subscriber.stream->send(std::move(message));
    ++subscriber.next_index;
  }
}

// ---- Raft transport ----

void Validator::receive(const rpb::Envelope& envelope) {
  if (stopped_) return;
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
