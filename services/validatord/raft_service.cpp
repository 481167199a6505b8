#include "raft_service.h"

#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"
#include "mkt/runtime/unary.h"

namespace mkt::validatord {

namespace rpb = market::consensus::raft::v1;

grpc::Status RaftService::authorize(std::string_view key, const std::optional<std::string>& peer,
                                    const rpb::Envelope& envelope) const {
  const auto sender = accounts::account_of(keys_, key);
  if (!sender) {
    return {grpc::StatusCode::UNAUTHENTICATED,
            std::string("no validator's key in metadata ") + runtime::validator_key_metadata};
  }
  if (peer && *peer != *sender) {
    return runtime::peer_refused(*peer, "validator '" + *sender + "', whose key the call carries");
  }
  for (const rpb::Message& message : envelope.messages()) {
    if (message.from() != *sender) {
      return {grpc::StatusCode::PERMISSION_DENIED,
              *sender + "'s key cannot send messages from '" + message.from() + "'"};
    }
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* RaftService::Send(grpc::CallbackServerContext* context,
                                            const rpb::Envelope* request,
                                            market::common::v1::Ack* response) {
  std::string key = runtime::client_metadata(*context, runtime::validator_key_metadata);
  return runtime::serve_on(
      strand_, context, request, response,
      [this, key = std::move(key), peer = runtime::peer_node_id(*context)](
          const rpb::Envelope& envelope, runtime::Responder<market::common::v1::Ack> responder) {
        if (const grpc::Status allowed = authorize(key, peer, envelope); !allowed.ok()) {
          rejected_.add(static_cast<std::uint64_t>(envelope.messages_size()));
          responder.finish(allowed);
          return;
        }
        receive_(envelope);
        responder.finish(grpc::Status::OK);
      });
}

}  // namespace mkt::validatord
