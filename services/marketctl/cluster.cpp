#include "cluster.h"

#include <grpcpp/grpcpp.h>

#include "market/ledger/v1/ledger.grpc.pb.h"

namespace mkt::marketctl {

namespace lpb = market::ledger::v1;

std::vector<ValidatorAnswer> ask_validators(const Market& market,
                                            std::chrono::milliseconds timeout) {
  std::vector<ValidatorAnswer> answers;
  for (const auto* node : market.nodes_of("validator")) {
    ValidatorAnswer answer{.node = node, .status = std::nullopt};
    if (node->state == runtime::NodeState::running) {
      auto stub = lpb::Ledger::NewStub(market.channel(*node));
      grpc::ClientContext context;
      context.set_deadline(deadline_in(timeout));
      lpb::ClusterStatus status;
      if (stub->GetClusterStatus(&context, {}, &status).ok()) answer.status = std::move(status);
    }
    answers.push_back(std::move(answer));
  }
  return answers;
}

const ValidatorAnswer* leader_answer(const std::vector<ValidatorAnswer>& answers) {
  const lpb::ClusterStatus* newest = nullptr;
  for (const auto& a : answers) {
    if (a.status && !a.status->leader_id().empty() &&
        (newest == nullptr || a.status->term() > newest->term())) {
      newest = &*a.status;
    }
  }
  if (newest == nullptr) return nullptr;
  for (const auto& a : answers) {
    if (a.status && a.node->id == newest->leader_id()) return &a;
  }
  return nullptr;
}

}  // namespace mkt::marketctl
