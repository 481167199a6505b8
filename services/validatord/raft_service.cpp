#include "raft_service.h"

#include "mkt/runtime/unary.h"

namespace mkt::validatord {

grpc::ServerUnaryReactor* RaftService::Send(grpc::CallbackServerContext* context,
                                            const market::consensus::raft::v1::Envelope* request,
                                            market::common::v1::Ack* response) {
  return runtime::serve_on(strand_, context, request, response,
                           [this](const market::consensus::raft::v1::Envelope& envelope,
                                  runtime::Responder<market::common::v1::Ack> responder) {
                             receive_(envelope);
                             responder.finish(grpc::Status::OK);
                           });
}

}  // namespace mkt::validatord
