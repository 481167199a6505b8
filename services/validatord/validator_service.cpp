// The validator's gRPC face: the Ledger service (clients) and the Raft service (peers). Each call
// is handed to the strand (runtime::serve_on) and answered from the Validator's state there.
#include "validator_service.h"

#include "mkt/core/enum_table.h"
#include "mkt/runtime/clock.h"
#include "validator.h"

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

}  // namespace

grpc::Service* Validator::ledger_service() {
  return ledger_api_.get();
}
grpc::Service* Validator::raft_service() {
  return raft_api_.get();
}

grpc::ServerUnaryReactor* Validator::SubmitTradeBatch(grpc::CallbackServerContext* context,
                                                      const lpb::TradeBatch* request,
                                                      lpb::SubmitTradeBatchResponse* response) {
  return runtime::serve_on(strand_, context, request, response,
                           [this](const lpb::TradeBatch& batch, SubmitResponder responder) {
                             submit(batch, std::move(responder));
                           });
}

grpc::ServerWriteReactor<lpb::CommittedEntry>* Validator::StreamCommitted(
    grpc::CallbackServerContext*, const lpb::StreamCommittedRequest* request) {
  auto where = std::make_shared<std::list<Subscriber>::iterator>(subscribers_.end());
  runtime::StreamOptions stream_options;
  stream_options.queued_messages_max = 100'000;
  return runtime::serve_stream_on<lpb::CommittedEntry>(
      strand_, stream_options,
      [this, where, from = std::max<std::uint64_t>(request->from_index(), 1)](
          std::shared_ptr<EntryStream> stream) {
        if (stopped_) {
          stream->finish(Status(StatusCode::UNAVAILABLE, "the validator is shutting down"));
          return;
        }
        if (from < node_.log().first_index() && from <= ledger_.applied_index()) {
          stream->finish(Status(StatusCode::OUT_OF_RANGE,
                                "entries before index " +
                                    std::to_string(node_.log().first_index()) +
                                    " were compacted into a snapshot; the first index kept is " +
                                    std::to_string(node_.log().first_index())));
          return;
        }
        *where = subscribers_.insert(subscribers_.end(), Subscriber{std::move(stream), from});
        feed(**where);
      },
      [this, where] {
        if (*where != subscribers_.end()) subscribers_.erase(*where);
      });
}

grpc::ServerUnaryReactor* Validator::GetAccount(grpc::CallbackServerContext* context,
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

grpc::ServerUnaryReactor* Validator::GetTrade(grpc::CallbackServerContext* context,
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

grpc::ServerUnaryReactor* Validator::GetClusterStatus(grpc::CallbackServerContext* context,
                                                      const lpb::GetClusterStatusRequest* request,
                                                      lpb::ClusterStatus* response) {
  return runtime::serve_on(strand_, context, request, response,
                           [this](const lpb::GetClusterStatusRequest&,
                                  runtime::Responder<lpb::ClusterStatus> responder) {
                             const raft::Status status = node_.status();
                             lpb::ClusterStatus answer;
                             runtime::stamp(*answer.mutable_header(), options_.node_id);
                             answer.set_protocol("raft");
                             answer.set_term(status.term);
                             answer.set_leader_id(roster_.name_of(status.leader));
                             answer.set_commit_index(status.commit);
                             answer.set_applied_index(ledger_.applied_index());
                             answer.set_ledger_hash(ledger_.hash());
                             answer.set_first_index(status.first_index);
                             answer.set_trades_applied(ledger_.trades_applied());
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
                             responder.finish(Status::OK, std::move(answer));
                           });
}

grpc::ServerUnaryReactor* Validator::Send(grpc::CallbackServerContext* context,
                                          const rpb::Envelope* request,
                                          market::common::v1::Ack* response) {
  return runtime::serve_on(
      strand_, context, request, response,
      [this](const rpb::Envelope& envelope, runtime::Responder<market::common::v1::Ack> responder) {
        receive(envelope);
        responder.finish(Status::OK);
      });
}

}  // namespace mkt::validatord
