#include "convert.h"

#include <algorithm>

namespace mkt::validatord {

namespace rpb = market::consensus::raft::v1;
namespace lpb = market::ledger::v1;

raft::NodeId Roster::id_of(const std::string& name) const {
  auto it = std::ranges::find(names_, name);
  return it == names_.end() ? raft::no_node : static_cast<raft::NodeId>(it - names_.begin()) + 1;
}

const std::string& Roster::name_of(raft::NodeId id) const {
  static const std::string none;
  return id == raft::no_node || id > names_.size() ? none : names_[id - 1];
}

std::vector<raft::NodeId> Roster::ids() const {
  std::vector<raft::NodeId> ids;
  for (raft::NodeId id = 1; id <= names_.size(); ++id) ids.push_back(id);
  return ids;
}

namespace {

rpb::MessageType to_proto(raft::MessageType type) {
  switch (type) {
    case raft::MessageType::append:
      return rpb::MESSAGE_TYPE_APPEND;
    case raft::MessageType::append_response:
      return rpb::MESSAGE_TYPE_APPEND_RESPONSE;
    case raft::MessageType::pre_vote:
      return rpb::MESSAGE_TYPE_PRE_VOTE;
    case raft::MessageType::pre_vote_response:
      return rpb::MESSAGE_TYPE_PRE_VOTE_RESPONSE;
    case raft::MessageType::vote:
      return rpb::MESSAGE_TYPE_VOTE;
    case raft::MessageType::vote_response:
      return rpb::MESSAGE_TYPE_VOTE_RESPONSE;
    case raft::MessageType::heartbeat:
      return rpb::MESSAGE_TYPE_HEARTBEAT;
    case raft::MessageType::heartbeat_response:
      return rpb::MESSAGE_TYPE_HEARTBEAT_RESPONSE;
    case raft::MessageType::timeout_now:
      return rpb::MESSAGE_TYPE_TIMEOUT_NOW;
    case raft::MessageType::snapshot:
      return rpb::MESSAGE_TYPE_SNAPSHOT;
  }
  return rpb::MESSAGE_TYPE_UNSPECIFIED;
}

std::optional<raft::MessageType> from_proto(rpb::MessageType type) {
  switch (type) {
    case rpb::MESSAGE_TYPE_APPEND:
      return raft::MessageType::append;
    case rpb::MESSAGE_TYPE_APPEND_RESPONSE:
      return raft::MessageType::append_response;
    case rpb::MESSAGE_TYPE_PRE_VOTE:
      return raft::MessageType::pre_vote;
    case rpb::MESSAGE_TYPE_PRE_VOTE_RESPONSE:
      return raft::MessageType::pre_vote_response;
    case rpb::MESSAGE_TYPE_VOTE:
      return raft::MessageType::vote;
    case rpb::MESSAGE_TYPE_VOTE_RESPONSE:
      return raft::MessageType::vote_response;
    case rpb::MESSAGE_TYPE_HEARTBEAT:
      return raft::MessageType::heartbeat;
    case rpb::MESSAGE_TYPE_HEARTBEAT_RESPONSE:
      return raft::MessageType::heartbeat_response;
    case rpb::MESSAGE_TYPE_TIMEOUT_NOW:
      return raft::MessageType::timeout_now;
    case rpb::MESSAGE_TYPE_SNAPSHOT:
      return raft::MessageType::snapshot;
    default:
      return std::nullopt;
  }
}

}  // namespace

void to_proto(const raft::Message& m, const Roster& roster, rpb::Message& out) {
  out.set_type(to_proto(m.type));
  out.set_from(roster.name_of(m.from));
  out.set_to(roster.name_of(m.to));
  out.set_term(m.term);
  out.set_log_term(m.log_term);
  out.set_index(m.index);
  out.set_commit(m.commit);
  out.set_commit_ns(m.commit_ns);
  out.set_reject(m.reject);
  out.set_reject_hint(m.reject_hint);
  out.set_transfer(m.transfer);
  for (const raft::Entry& e : m.entries) {
    auto* entry = out.add_entries();
    entry->set_term(e.term);
    entry->set_index(e.index);
    entry->set_type(e.type == raft::EntryType::empty ? rpb::ENTRY_TYPE_EMPTY
                                                     : rpb::ENTRY_TYPE_NORMAL);
    entry->set_data(e.data);
  }
  if (m.snapshot) {
    auto* meta = out.mutable_snapshot();
    meta->set_index(m.snapshot->meta.index);
    meta->set_term(m.snapshot->meta.term);
    for (auto voter : m.snapshot->meta.voters) meta->add_voters(roster.name_of(voter));
    out.set_snapshot_data(m.snapshot->data);
  }
}

std::expected<raft::Message, std::string> from_proto(const rpb::Message& in, const Roster& roster) {
  raft::Message m;
  const auto type = from_proto(in.type());
  if (!type) return std::unexpected("unknown message type " + std::to_string(in.type()));
  m.type = *type;
  m.from = roster.id_of(in.from());
  m.to = roster.id_of(in.to());
  if (m.from == raft::no_node || m.to == raft::no_node) {
    return std::unexpected("message between unknown validators '" + in.from() + "' -> '" + in.to() +
                           "'");
  }
  m.term = in.term();
  m.log_term = in.log_term();
  m.index = in.index();
  m.commit = in.commit();
  m.commit_ns = in.commit_ns();
  m.reject = in.reject();
  m.reject_hint = in.reject_hint();
  m.transfer = in.transfer();
  m.entries.reserve(static_cast<std::size_t>(in.entries_size()));
  for (const auto& e : in.entries()) {
    if (e.type() != rpb::ENTRY_TYPE_NORMAL && e.type() != rpb::ENTRY_TYPE_EMPTY) {
      return std::unexpected("unknown entry type");
    }
    m.entries.push_back(raft::Entry{
        e.term(), e.index(),
        e.type() == rpb::ENTRY_TYPE_EMPTY ? raft::EntryType::empty : raft::EntryType::normal,
        e.data()});
  }
  if (in.has_snapshot()) {
    auto snapshot = std::make_shared<raft::Snapshot>();
    snapshot->meta.index = in.snapshot().index();
    snapshot->meta.term = in.snapshot().term();
    for (const auto& voter : in.snapshot().voters()) {
      const auto id = roster.id_of(voter);
      if (id == raft::no_node) return std::unexpected("snapshot names unknown voter " + voter);
      snapshot->meta.voters.push_back(id);
    }
    snapshot->data = in.snapshot_data();
    m.snapshot = std::move(snapshot);
  }
  return m;
}

ledger::Batch from_proto(const lpb::TradeBatch& in) {
  ledger::Batch batch;
  batch.exchange_id = in.exchange_id();
  batch.sequence = in.sequence();
  batch.trades.reserve(static_cast<std::size_t>(in.trades_size()));
  for (const auto& t : in.trades()) {
    ledger::Trade trade;
    trade.trade_id = t.trade_id();
    trade.symbol = t.symbol();
    trade.price_ticks = t.price_ticks();
    trade.quantity_lots = t.quantity_lots();
    trade.notional = t.notional();
    trade.buyer = t.buyer_account();
    trade.seller = t.seller_account();
    trade.buy_order_id = t.buy_order_id();
    trade.sell_order_id = t.sell_order_id();
    trade.aggressor = t.aggressor_side() == market::common::v1::SIDE_BUY ? ledger::Side::buy
                      : t.aggressor_side() == market::common::v1::SIDE_SELL
                          ? ledger::Side::sell
                          : ledger::Side::unspecified;
    trade.executed_at_ns = t.executed_at_ns();
    batch.trades.push_back(std::move(trade));
  }
  return batch;
}

void to_proto(const ledger::Trade& t, const std::string& exchange_id, lpb::TradeReport& out) {
  out.set_trade_id(t.trade_id);
  out.set_symbol(t.symbol);
  out.set_price_ticks(t.price_ticks);
  out.set_quantity_lots(t.quantity_lots);
  out.set_notional(t.notional);
  out.set_buyer_account(t.buyer);
  out.set_seller_account(t.seller);
  out.set_buy_order_id(t.buy_order_id);
  out.set_sell_order_id(t.sell_order_id);
  out.set_aggressor_side(t.aggressor == ledger::Side::buy ? market::common::v1::SIDE_BUY
                         : t.aggressor == ledger::Side::sell
                             ? market::common::v1::SIDE_SELL
                             : market::common::v1::SIDE_UNSPECIFIED);
  out.set_executed_at_ns(t.executed_at_ns);
  out.set_exchange_id(exchange_id);
}

void to_proto(const ledger::Batch& batch, lpb::TradeBatch& out) {
  out.set_exchange_id(batch.exchange_id);
  out.set_sequence(batch.sequence);
  for (const auto& t : batch.trades) to_proto(t, batch.exchange_id, *out.add_trades());
}

}  // namespace mkt::validatord
