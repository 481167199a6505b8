#pragma once
// The Raft service of a validator, for its peers: each Send hands its envelope to the strand
// and acknowledges it once stepped (runtime::serve_on). What the messages mean is the Raft
// driver's (validator.h).

#include <functional>

#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "mkt/runtime/process.h"

namespace mkt::validatord {

class RaftService final : public market::consensus::raft::v1::Raft::CallbackService {
 public:
  using Receive = std::function<void(const market::consensus::raft::v1::Envelope&)>;
  // `receive` runs on the strand.
  RaftService(runtime::Strand strand, Receive receive)
      : strand_(std::move(strand)), receive_(std::move(receive)) {}

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context,
                                 const market::consensus::raft::v1::Envelope* request,
                                 market::common::v1::Ack* response) override;

 private:
  runtime::Strand strand_;
  Receive receive_;
};

}  // namespace mkt::validatord
