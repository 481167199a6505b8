#include "ledger_service.h"

#include <spdlog/spdlog.h>

#include "convert.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"

namespace mkt::validatord {

namespace lpb = market::ledger::v1;
using grpc::Status;
using grpc::StatusCode;

namespace {

const Status shutting_down(StatusCode::UNAVAILABLE, "the validator is shutting down");

}  // namespace

LedgerService::LedgerService(runtime::Strand strand, LedgerOptions options, ledger::Ledger ledger,
                             Sequencer& sequencer, runtime::AddressBook& addresses,
                             metrics::Registry& registry, const runtime::Clock& clock)
    : strand_(std::move(strand)),
      options_(options),
      ledger_(std::move(ledger)),
      sequencer_(sequencer),
      addresses_(addresses),
      clock_(clock) {
  metrics_ = Metrics{
      .proposals = &registry.counter("ledger_proposals_total", "Trade batches proposed."),
      .trades = &registry.counter("ledger_trades_total", "Trades applied to the ledger."),
      .duplicates = &registry.counter("ledger_duplicate_batches_total",
                                      "Batches applied again and ignored (retries)."),
      .refused = &registry.counter("ledger_refused_batches_total",
                                   "Batches refused: malformed, or not what the scenario allows."),
      .waiting = &registry.gauge("ledger_waiting_submissions", "Submissions awaiting commit."),
      .commit_latency =
          &registry.histogram("ledger_commit_seconds", "From a batch's submission to its answer.",
                              metrics::exponential_bounds(10'000, 2, 10'000'000'000), 1e9),
  };
}

// ---- the calls ----

grpc::ServerUnaryReactor* LedgerService::SubmitTradeBatch(grpc::CallbackServerContext* context,
                                                          const lpb::TradeBatch* request,
                                                          lpb::SubmitTradeBatchResponse* response) {
  Caller caller{.key = runtime::client_metadata(*context, runtime::ledger_key_metadata),
                .peer = runtime::peer_node_id(*context)};
  return runtime::serve_on(
      strand_, context, request, response,
      [this, caller = std::move(caller)](const lpb::TradeBatch& batch, SubmitResponder responder) {
        submit(batch, caller, std::move(responder));
      });
}

grpc::ServerWriteReactor<lpb::CommittedEntry>* LedgerService::StreamCommitted(
    grpc::CallbackServerContext*, const lpb::StreamCommittedRequest* request) {
  auto where = std::make_shared<std::list<Subscriber>::iterator>(subscribers_.end());
  runtime::StreamOptions stream_options;
  stream_options.queued_messages_max = 100'000;
  return runtime::serve_stream_on<lpb::CommittedEntry>(
      strand_, stream_options,
      [this, where, from = std::max<std::uint64_t>(request->from_index(), 1)](
          std::shared_ptr<EntryStream> stream) { subscribe(std::move(stream), from, *where); },
      [this, where] {
        if (*where != subscribers_.end()) subscribers_.erase(*where);
      });
}

grpc::ServerUnaryReactor* LedgerService::GetAccount(grpc::CallbackServerContext* context,
                                                    const lpb::GetLedgerAccountRequest* request,
                                                    lpb::LedgerAccount* response) {
  return runtime::serve_on(
      strand_, context, request, response,
      [this](const lpb::GetLedgerAccountRequest& req,
             runtime::Responder<lpb::LedgerAccount> responder) {
        if (req.account_id().empty()) {
          responder.finish(Status(StatusCode::INVALID_ARGUMENT, "account_id is required"));
          return;
        }
        lpb::LedgerAccount answer;
        answer.set_account_id(req.account_id());
        answer.set_as_of_index(ledger_.applied_index());
        if (const ledger::Account* account = ledger_.account(req.account_id())) {
          answer.set_cash(account->cash);
          for (const auto& [key, quantity] : account->positions) {
            auto* position = answer.add_positions();
            position->set_exchange_id(key.first);
            position->set_symbol(key.second);
            position->set_quantity_lots(quantity);
          }
        }
        responder.finish(Status::OK, std::move(answer));
      });
}

grpc::ServerUnaryReactor* LedgerService::GetTrade(grpc::CallbackServerContext* context,
                                                  const lpb::GetTradeRequest* request,
                                                  lpb::TradeReport* response) {
  return runtime::serve_on(
      strand_, context, request, response,
      [this](const lpb::GetTradeRequest& req, runtime::Responder<lpb::TradeReport> responder) {
        if (req.exchange_id().empty() || req.trade_id() == 0) {
          responder.finish(
              Status(StatusCode::INVALID_ARGUMENT, "exchange_id and trade_id are required"));
          return;
        }
        const ledger::StoredTrade* stored = ledger_.trade(req.exchange_id(), req.trade_id());
        if (stored == nullptr) {
          responder.finish(Status(StatusCode::NOT_FOUND,
                                  "no trade " + std::to_string(req.trade_id()) + " of " +
                                      req.exchange_id() + " in the ledger (or no longer kept)"));
          return;
        }
        lpb::TradeReport answer;
        to_proto(stored->trade, stored->exchange_id, answer);
        responder.finish(Status::OK, std::move(answer));
      });
}

grpc::ServerUnaryReactor* LedgerService::GetClusterStatus(
    grpc::CallbackServerContext* context, const lpb::GetClusterStatusRequest* request,
    lpb::ClusterStatus* response) {
  return runtime::serve_on(strand_, context, request, response,
                           [this](const lpb::GetClusterStatusRequest&,
                                  runtime::Responder<lpb::ClusterStatus> responder) {
                             lpb::ClusterStatus answer;
                             sequencer_.describe(answer);
                             if (auto address = addresses_.address_of(answer.leader_id())) {
                               answer.set_leader_address(*address);
                             }
                             answer.set_applied_index(ledger_.applied_index());
                             answer.set_ledger_hash(ledger_.hash());
                             answer.set_trades_applied(ledger_.trades_applied());
                             responder.finish(Status::OK, std::move(answer));
                           });
}

// ---- admitting a batch ----

runtime::Metadata LedgerService::leader_hint() const {
  const std::string leader = sequencer_.leader();
  runtime::Metadata hint{{"x-leader-id", leader}};
  if (auto address = addresses_.address_of(leader)) hint.emplace_back("x-leader-address", *address);
  return hint;
}

void LedgerService::submit(const lpb::TradeBatch& request, const Caller& caller,
                           SubmitResponder responder) {
  if (stopped_) {
    responder.finish(shutting_down);
    return;
  }
  const std::string owner = accounts::account_of(options_.keys, caller.key).value_or("");
  if (owner.empty()) {
    metrics_.refused->add();
    responder.finish(Status(StatusCode::UNAUTHENTICATED,
                            std::string("no exchange's key in metadata ") +
                                runtime::ledger_key_metadata + ": only exchanges submit"));
    return;
  }
  if (caller.peer && *caller.peer != owner) {
    metrics_.refused->add();
    responder.finish(runtime::peer_refused(*caller.peer,
                                           "exchange '" + owner + "', whose key the call carries"));
    return;
  }
  if (request.trades_size() > static_cast<int>(ledger::batch_trades_max)) {
    metrics_.refused->add();
    responder.finish(
        Status(StatusCode::RESOURCE_EXHAUSTED,
               "a batch holds at most " + std::to_string(ledger::batch_trades_max) + " trades"));
    return;
  }
  ledger::Batch batch = from_proto(request);
  auto ok = ledger::check(batch);
  if (ok && owner != batch.exchange_id) {
    metrics_.refused->add();
    responder.finish(Status(StatusCode::PERMISSION_DENIED,
                            owner + "'s key cannot submit batches of '" + batch.exchange_id + "'"));
    return;
  }
  if (ok) ok = ledger::admit(batch, options_.admission);
  if (!ok) {
    metrics_.refused->add();
    responder.finish(Status(StatusCode::INVALID_ARGUMENT, ok.error()));
    return;
  }
  if (!sequencer_.leads()) {
    const std::string leader = sequencer_.leader();
    if (leader.empty()) {
      responder.finish(Status(StatusCode::UNAVAILABLE, "no leader yet; retry with backoff"));
    } else {
      responder.finish(
          Status(StatusCode::FAILED_PRECONDITION, "not the leader; the leader is " + leader), {},
          leader_hint());
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
      answer.set_term(sequencer_.term_of(*index));
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
    if (auto proposed = sequencer_.propose(ledger::encode(batch)); !proposed) {
      responder.finish(proposed.error());
      return;
    }
    proposed_[exchange] = batch.sequence;
    metrics_.proposals->add();
  }
  waiters_[{exchange, batch.sequence}].push_back({std::move(responder), clock_.steady_ns()});
  metrics_.waiting->set(static_cast<std::int64_t>(++waiting_));
}

void LedgerService::answer_waiters(const std::string& exchange, std::uint64_t sequence,
                                   const Status& status,
                                   const lpb::SubmitTradeBatchResponse& response,
                                   const runtime::Metadata& trailing) {
  auto it = waiters_.find({exchange, sequence});
  if (it == waiters_.end()) return;
  const std::int64_t now = clock_.steady_ns();
  for (Waiter& waiter : it->second) {
    metrics_.commit_latency->observe(now - waiter.since_ns);
    waiter.responder.finish(status, response, trailing);
    --waiting_;
  }
  waiters_.erase(it);
  metrics_.waiting->set(static_cast<std::int64_t>(waiting_));
}

void LedgerService::fail_waiters(const std::string& why) {
  for (auto& [key, waiters] : waiters_) {
    for (Waiter& waiter : waiters) waiter.responder.finish(Status(StatusCode::UNAVAILABLE, why));
  }
  waiters_.clear();
  waiting_ = 0;
  metrics_.waiting->set(0);
  proposed_.clear();
}

void LedgerService::gained_leadership(const std::vector<const raft::Entry*>& unapplied) {
  for (const raft::Entry* entry : unapplied) {
    if (entry->type != raft::EntryType::normal) continue;
    if (auto batch = ledger::decode(entry->data)) {
      auto& highest = proposed_[batch->exchange_id];
      highest = std::max(highest, batch->sequence);
    }
  }
}

void LedgerService::lost_leadership() {
  fail_waiters("leadership changed before the batch committed; retry");
}

void LedgerService::stop() {
  stopped_ = true;
  fail_waiters(shutting_down.error_message());
  for (Subscriber& subscriber : subscribers_) subscriber.stream->finish(shutting_down);
}

// ---- applying what is committed ----

void LedgerService::apply(const raft::Entry& entry) {
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

std::expected<void, std::string> LedgerService::install(const std::string& data,
                                                        std::uint64_t index) {
  auto loaded = ledger::Ledger::load(data, options_.trades_kept_max);
  if (!loaded) return std::unexpected(loaded.error());
  ledger_ = std::move(*loaded);
  spdlog::info("installed a snapshot at index {} from the leader", index);
  for (Subscriber& subscriber : subscribers_) {
    if (subscriber.next_index <= index) {
      subscriber.stream->finish(
          Status(StatusCode::OUT_OF_RANGE,
                 "this validator installed a snapshot at index " + std::to_string(index) +
                     "; entries before it are not kept here, subscribe again from after it"));
    }
  }
  return {};
}

// ---- committed-entry streams ----

void LedgerService::subscribe(std::shared_ptr<EntryStream> stream, std::uint64_t from,
                              std::list<Subscriber>::iterator& where) {
  if (stopped_) {
    stream->finish(shutting_down);
    return;
  }
  const std::uint64_t first = sequencer_.first_index();
  if (from < first && from <= ledger_.applied_index()) {
    stream->finish(Status(StatusCode::OUT_OF_RANGE,
                          "entries before index " + std::to_string(first) +
                              " were compacted into a snapshot; the first index kept is " +
                              std::to_string(first)));
    return;
  }
  where = subscribers_.insert(subscribers_.end(), Subscriber{std::move(stream), from});
  feed(*where);
}

void LedgerService::feed(Subscriber& subscriber) {
  while (subscriber.next_index <= ledger_.applied_index() && subscriber.stream->open()) {
    if (subscriber.next_index < sequencer_.first_index()) {
      subscriber.stream->finish(
          Status(StatusCode::OUT_OF_RANGE, "the stream fell behind the log's compaction"));
      return;
    }
    const raft::Entry& entry = sequencer_.entry(subscriber.next_index);
    auto message = std::make_shared<lpb::CommittedEntry>();
    message->set_index(entry.index);
    message->set_term(entry.term);
    message->set_committed_at_ns(sequencer_.committed_at(entry.index));
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

}  // namespace mkt::validatord
