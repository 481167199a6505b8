#include "mkt/exchange/settlement.h"

#include "mkt/core/invariant.h"

namespace mkt::exchange {

std::vector<SettledTrade> trades_of(const Venue& venue, const Outcome& outcome,
                                    std::int64_t now_ns) {
  std::vector<SettledTrade> out;
  for (const VenueEvent& item : outcome.events) {
    const matching::Event& e = item.event;
    if (e.kind != matching::EventKind::fill) continue;
    const bool taker_buys = e.side == matching::Side::buy;
    SettledTrade& t = out.emplace_back();
    t.trade_id = item.trade_id;
    t.symbol = item.symbol;
    t.price = e.price;
    t.quantity = e.quantity;
    t.notional = e.price * e.quantity * venue.config().symbols[item.symbol].cash_per_tick_lot;
    t.buyer = taker_buys ? e.account : e.maker_account;
    t.seller = taker_buys ? e.maker_account : e.account;
    t.buy_order = taker_buys ? e.order_id : e.maker_order_id;
    t.sell_order = taker_buys ? e.maker_order_id : e.order_id;
    t.aggressor = e.side;
    t.executed_at_ns = now_ns;
  }
  return out;
}

void Settlement::add(const SettledTrade& trade) {
  MKT_INVARIANT(uncut_.empty() || uncut_.back().trade_id < trade.trade_id,
                "trades are added in trade id order");
  uncut_.push_back(trade);
}

std::optional<SettlementCut> Settlement::propose_cut() const {
  if (uncut_.empty()) return std::nullopt;
  const std::size_t n = std::min(uncut_.size(), batch_max_);
  return SettlementCut{cut_ + 1, uncut_[n - 1].trade_id};
}

void Settlement::apply(const SettlementCut& cut) {
  MKT_INVARIANT(cut.sequence == cut_ + 1, "settlement cuts are applied in sequence");
  Batch batch{cut.sequence, {}};
  while (!uncut_.empty() && uncut_.front().trade_id <= cut.last_trade_id) {
    batch.trades.push_back(uncut_.front());
    uncut_.pop_front();
  }
  cut_ = cut.sequence;
  batches_.push_back(std::move(batch));
}

void Settlement::apply(const SettlementAck& ack) {
  MKT_INVARIANT(ack.sequence == acknowledged_ + 1 && ack.sequence <= cut_,
                "settlement acknowledgements are applied in sequence");
  batches_.pop_front();
  acknowledged_ = ack.sequence;
}

std::size_t Settlement::unsettled_trades() const {
  std::size_t n = uncut_.size();
  for (const Batch& b : batches_) n += b.trades.size();
  return n;
}

std::int64_t Settlement::oldest_unsettled_ns() const {
  for (const Batch& b : batches_) {
    if (!b.trades.empty()) return b.trades.front().executed_at_ns;
  }
  return uncut_.empty() ? 0 : uncut_.front().executed_at_ns;
}

bool replay_record(Venue& venue, Settlement* settlement, const Record& record) {
  if (const auto* command = std::get_if<Command>(&record)) {
    const Outcome outcome = run_command(venue, *command);
    if (settlement != nullptr) {
      for (const SettledTrade& trade : trades_of(venue, outcome, time_of(*command))) {
        settlement->add(trade);
      }
    }
    return changes_state(outcome);
  }
  if (settlement == nullptr) return true;
  if (const auto* cut = std::get_if<SettlementCut>(&record)) {
    settlement->apply(*cut);
  } else {
    settlement->apply(std::get<SettlementAck>(record));
  }
  return true;
}

}  // namespace mkt::exchange
