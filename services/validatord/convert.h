#pragma once
// Between the wire (proto/market/ledger/v1, proto/market/consensus/raft/v1) and the libs'
// values. Node ids are strings on the wire and numbers (1-based positions in the validator list)
// in libs/raft.

#include <expected>
#include <string>
#include <vector>

#include "market/consensus/raft/v1/raft.pb.h"
#include "market/ledger/v1/ledger.pb.h"
#include "mkt/ledger/ledger.h"
#include "mkt/raft/types.h"

namespace mkt::validatord {

// The validators in scenario order; a raft::NodeId is a position in it, from 1.
class Roster {
 public:
  explicit Roster(std::vector<std::string> names) : names_(std::move(names)) {}
  raft::NodeId id_of(const std::string& name) const;  // raft::no_node when unknown
  const std::string& name_of(raft::NodeId id) const;  // "" for no_node
  const std::vector<std::string>& names() const { return names_; }
  std::vector<raft::NodeId> ids() const;

 private:
  std::vector<std::string> names_;
};

void to_proto(const raft::Message& message, const Roster& roster,
              market::consensus::raft::v1::Message& out);
// Refuses unknown types and node ids; the node checks the rest.
std::expected<raft::Message, std::string> from_proto(const market::consensus::raft::v1::Message& in,
                                                     const Roster& roster);

ledger::Batch from_proto(const market::ledger::v1::TradeBatch& in);
void to_proto(const ledger::Trade& trade, const std::string& exchange_id,
              market::ledger::v1::TradeReport& out);
void to_proto(const ledger::Batch& batch, market::ledger::v1::TradeBatch& out);

}  // namespace mkt::validatord
