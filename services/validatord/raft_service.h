#pragma once
// The Raft service of a validator, for its peers: each Send hands its envelope to the strand
// and acknowledges it once stepped (runtime::serve_on). What the messages mean is the Raft
// driver's (validator.h).
//
// Only the validators of the roster speak Raft, each for itself: an envelope carries its sender's
// key (metadata x-validator-key), and every message in it must be from that validator. Without a
// validator's key the call is UNAUTHENTICATED; with one, a message from another validator makes it
// PERMISSION_DENIED; either way nothing of it is stepped, and raft_rejected_messages_total counts
// its messages.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/process.h"

namespace mkt::validatord {

class RaftService final : public market::consensus::raft::v1::Raft::CallbackService {
 public:
  using Receive = std::function<void(const market::consensus::raft::v1::Envelope&)>;
  // `receive` runs on the strand; `keys` are every validator's; `rejected` must outlive the
  // service.
  RaftService(runtime::Strand strand, std::vector<accounts::AccountKey> keys, Receive receive,
              metrics::Counter& rejected)
      : strand_(std::move(strand)),
        keys_(std::move(keys)),
        receive_(std::move(receive)),
        rejected_(rejected) {}

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context,
                                 const market::consensus::raft::v1::Envelope* request,
                                 market::common::v1::Ack* response) override;

 private:
  // OK when `key` is a validator's and every message is from it.
  grpc::Status authorize(std::string_view key, const std::optional<std::string>& peer,
                         const market::consensus::raft::v1::Envelope& envelope) const;

  runtime::Strand strand_;
  std::vector<accounts::AccountKey> keys_;
  Receive receive_;
  metrics::Counter& rejected_;
};

}  // namespace mkt::validatord
