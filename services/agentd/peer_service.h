#pragma once
// agentd's Peer service: each call runs on the agent's strand (Agent::on_signals, on_coordinate,
// on_subscribe). With TLS, only the scenario's agents send signals and coordinate.

#include <set>
#include <string>

#include "agent.h"
#include "market/peer/v1/peer.grpc.pb.h"
#include "mkt/runtime/stream.h"
#include "mkt/runtime/tls.h"
#include "mkt/runtime/unary.h"

namespace mkt::agentd {

class PeerService final : public market::peer::v1::Peer::CallbackService {
 public:
  // `agents`: the node ids that may write to this one over TLS.
  PeerService(Agent& agent, Strand strand, std::set<std::string, std::less<>> agents)
      : agent_(agent), strand_(std::move(strand)), agents_(std::move(agents)) {}

  grpc::ServerUnaryReactor* SendSignals(grpc::CallbackServerContext* context,
                                        const market::peer::v1::SignalBatch* request,
                                        market::common::v1::Ack* response) override {
    if (auto refused = refuse_non_agent(*context)) return runtime::answer_now(context, *refused);
    return runtime::serve_on(strand_, context, request, response,
                             [this](const market::peer::v1::SignalBatch& batch,
                                    runtime::Responder<market::common::v1::Ack> answer) {
                               answer.finish(agent_.on_signals(batch));
                             });
  }

  grpc::ServerUnaryReactor* Coordinate(grpc::CallbackServerContext* context,
                                       const market::peer::v1::CoordinationMessage* request,
                                       market::peer::v1::CoordinationReply* response) override {
    if (auto refused = refuse_non_agent(*context)) return runtime::answer_now(context, *refused);
    return runtime::serve_on(
        strand_, context, request, response,
        [this](const market::peer::v1::CoordinationMessage& message,
               runtime::Responder<market::peer::v1::CoordinationReply> answer) {
          market::peer::v1::CoordinationReply reply;
          const grpc::Status status = agent_.on_coordinate(message, reply);
          answer.finish(status, std::move(reply));
        });
  }

  grpc::ServerWriteReactor<market::peer::v1::Signal>* Subscribe(
      grpc::CallbackServerContext* /*context*/,
      const market::peer::v1::SubscribeRequest* request) override {
    using Stream = runtime::Stream<market::peer::v1::Signal>;
    // A subscriber that does not keep up loses signals (they are news, and age anyway).
    return runtime::serve_stream_on<market::peer::v1::Signal>(
        strand_, {.queued_messages_max = 1'000, .drop_when_full = true},
        [this, request = *request](std::shared_ptr<Stream> stream) {
          if (auto status = agent_.on_subscribe(stream, request); !status.ok()) {
            stream->finish(std::move(status));
          }
        });
  }

 private:
  std::optional<grpc::Status> refuse_non_agent(const grpc::CallbackServerContext& context) const {
    const auto peer = runtime::peer_node_id(context);
    if (!peer || agents_.contains(*peer)) return std::nullopt;
    return runtime::peer_refused(*peer, "an agent of the scenario");
  }
  Agent& agent_;
  Strand strand_;
  std::set<std::string, std::less<>> agents_;
};

}  // namespace mkt::agentd
