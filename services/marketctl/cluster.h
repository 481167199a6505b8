#pragma once
// The validators' views of their cluster (Ledger.GetClusterStatus), asked of each running one:
// the leader, the replicas' indexes and hashes, where to read the ledger from.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client.h"
#include "market/ledger/v1/ledger.pb.h"

namespace mkt::marketctl {

struct ValidatorAnswer {
  const runtime::NodeRecord* node = nullptr;
  std::optional<market::ledger::v1::ClusterStatus> status;  // empty: not running, or no answer
};

// Every validator of the market in its order; each running one asked within `timeout`.
std::vector<ValidatorAnswer> ask_validators(const Market& market,
                                            std::chrono::milliseconds timeout);

// The answer of the leader that the newest term's answers name, when it answered itself; else
// null.
const ValidatorAnswer* leader_answer(const std::vector<ValidatorAnswer>& answers);

}  // namespace mkt::marketctl
