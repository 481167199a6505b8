#pragma once
// The gRPC services a Validator serves (validator_service.cpp has their calls): each forwards to
// the Validator's handler of the same name. Internal to validatord; validator.cpp builds them.

#include "validator.h"

namespace mkt::validatord {

class Validator::LedgerApi final : public market::ledger::v1::Ledger::CallbackService {
 public:
  explicit LedgerApi(Validator& v) : v_(v) {}
  grpc::ServerUnaryReactor* SubmitTradeBatch(
      grpc::CallbackServerContext* c, const market::ledger::v1::TradeBatch* q,
      market::ledger::v1::SubmitTradeBatchResponse* r) override {
    return v_.SubmitTradeBatch(c, q, r);
  }
  grpc::ServerWriteReactor<market::ledger::v1::CommittedEntry>* StreamCommitted(
      grpc::CallbackServerContext* c,
      const market::ledger::v1::StreamCommittedRequest* q) override {
    return v_.StreamCommitted(c, q);
  }
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* c,
                                       const market::ledger::v1::GetLedgerAccountRequest* q,
                                       market::ledger::v1::LedgerAccount* r) override {
    return v_.GetAccount(c, q, r);
  }
  grpc::ServerUnaryReactor* GetTrade(grpc::CallbackServerContext* c,
                                     const market::ledger::v1::GetTradeRequest* q,
                                     market::ledger::v1::TradeReport* r) override {
    return v_.GetTrade(c, q, r);
  }
  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* c,
                                             const market::ledger::v1::GetClusterStatusRequest* q,
                                             market::ledger::v1::ClusterStatus* r) override {
    return v_.GetClusterStatus(c, q, r);
  }

 private:
  Validator& v_;
};

class Validator::RaftApi final : public market::consensus::raft::v1::Raft::CallbackService {
 public:
  explicit RaftApi(Validator& v) : v_(v) {}
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* c,
                                 const market::consensus::raft::v1::Envelope* q,
                                 market::common::v1::Ack* r) override {
    return v_.Send(c, q, r);
  }

 private:
  Validator& v_;
};

}  // namespace mkt::validatord
