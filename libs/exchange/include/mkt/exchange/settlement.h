#pragma once
// Which trades have reached the ledger: I/O-free bookkeeping of the exchange's trade reports.
//
// Trades enter in trade id order as the venue makes them. A cut (journalled) closes the trades not
// yet in a batch, up to a trade id, into the next batch; the batches go to the ledger one at a time
// in sequence order, and an acknowledgement (journalled) forgets a batch. Because cuts name their
// last trade id and are replayed from the journal in order with the commands that made the trades,
// a restart rebuilds batch n with exactly the trades it had: a retry of batch n after a crash is
// the same batch, which the ledger recognises by (exchange id, sequence) and applies once.

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "mkt/exchange/journal.h"

namespace mkt::exchange {

struct SettledTrade {
  TradeId trade_id = 0;
  SymbolIndex symbol = 0;
  Price price = 0;
  Quantity quantity = 0;
  std::int64_t notional = 0;  // price * quantity * cash_per_tick_lot, in cents
  AccountId buyer = 0;
  AccountId seller = 0;
  OrderId buy_order = 0;
  OrderId sell_order = 0;
  matching::Side aggressor = matching::Side::buy;
  std::int64_t executed_at_ns = 0;

  friend bool operator==(const SettledTrade&, const SettledTrade&) = default;
};

// The trades of a command's outcome, in order.
std::vector<SettledTrade> trades_of(const Venue& venue, const Outcome& outcome,
                                    std::int64_t now_ns);

struct Batch {
  std::uint64_t sequence = 0;
  std::vector<SettledTrade> trades;
};

class Settlement {
 public:
  explicit Settlement(std::size_t batch_trades_max = 4096) : batch_max_(batch_trades_max) {}

  void add(const SettledTrade& trade);
  // The next cut to journal: up to batch_trades_max of the trades not in a batch yet; nullopt
  // when there are none.
  std::optional<SettlementCut> propose_cut() const;
  // A cut or an acknowledgement, live or replayed. Out of order, it is a programming error.
  void apply(const SettlementCut& cut);
  void apply(const SettlementAck& ack);

  // The lowest batch not acknowledged yet, to send; null when every cut batch is acknowledged.
  const Batch* next_batch() const { return batches_.empty() ? nullptr : &batches_.front(); }
  std::uint64_t acknowledged_sequence() const { return acknowledged_; }
  std::uint64_t cut_sequence() const { return cut_; }
  // Trades made and not acknowledged by the ledger, and the time of the oldest (0 if none).
  std::size_t unsettled_trades() const;
  std::int64_t oldest_unsettled_ns() const;

 private:
  std::size_t batch_max_;
  std::deque<SettledTrade> uncut_;
  std::deque<Batch> batches_;  // cut, not acknowledged
  std::uint64_t cut_ = 0;
  std::uint64_t acknowledged_ = 0;
};

// Replays one journal record into the venue and the settlement (none: trades are not settled and
// settlement records are skipped). False when a command no longer changes the venue: the journal
// was written by another venue.
bool replay_record(Venue& venue, Settlement* settlement, const Record& record);

}  // namespace mkt::exchange
