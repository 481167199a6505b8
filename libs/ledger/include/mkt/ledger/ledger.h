#pragma once
// The trade ledger's state machine, I/O-free: every validator applies the same committed batches
// in the same order and holds the same ledger, which `hash()` summarises in one number.
//
// Batches are idempotent on (exchange, sequence): per exchange, sequence n + 1 applies only after
// n; a sequence already applied is a duplicate and changes nothing; one that skips ahead is out of
// order and changes nothing either. Applying a batch moves cash (the buyer pays the notional, the
// seller receives it) and positions per (exchange, symbol), and keeps the trade for lookup by id.
// The newest `trades_kept_max` trades are kept; older ones are forgotten (they stay in the
// replicated log until it is compacted).

#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkt::ledger {

inline constexpr std::size_t batch_trades_max = 4096;
inline constexpr std::int64_t quantity_lots_max = 1'000'000'000'000;
inline constexpr std::int64_t notional_max = 1'000'000'000'000'000;

enum class Side : std::uint8_t { unspecified, buy, sell };

struct Trade {
  std::uint64_t trade_id = 0;
  std::string symbol;
  std::int64_t price_ticks = 0;
  std::int64_t quantity_lots = 0;
  std::int64_t notional = 0;  // cash minor units
  std::string buyer;
  std::string seller;
  std::uint64_t buy_order_id = 0;
  std::uint64_t sell_order_id = 0;
  Side aggressor = Side::unspecified;
  std::int64_t executed_at_ns = 0;

  friend bool operator==(const Trade&, const Trade&) = default;
};

struct Batch {
  std::string exchange_id;
  std::uint64_t sequence = 0;
  std::vector<Trade> trades;

  friend bool operator==(const Batch&, const Batch&) = default;
};

// A batch as a Raft entry's data, and back. decode refuses anything check() would.
std::string encode(const Batch& batch);
std::expected<Batch, std::string> decode(std::string_view bytes);
// What a batch must satisfy to be proposed: an exchange id, a sequence from 1, at most
// batch_trades_max trades with increasing ids, positive prices and quantities in range, a
// notional in range, and a buyer and a seller.
std::expected<void, std::string> check(const Batch& batch);

// What the market lets a batch hold, from its scenario: its exchanges, the symbols each lists with
// the cash (minor units) of one tick on one lot, and the accounts that may trade.
struct Admission {
  std::map<std::string, std::map<std::string, std::int64_t>> exchanges;  // -> symbol -> cash
  std::set<std::string> accounts;
};

// Whether the market allows `batch` (which passed check()): from one of its exchanges, with at
// least one trade, each of a symbol that exchange lists, between two different known accounts, at
// a notional of exactly price x quantity x the symbol's cash per tick-lot. The error names the
// first bad trade by its position and id.
std::expected<void, std::string> admit(const Batch& batch, const Admission& admission);

enum class Outcome : std::uint8_t { committed, duplicate, out_of_order };

struct Applied {
  Outcome outcome = Outcome::committed;
  // committed: this entry's index; duplicate: where that sequence was applied, when it was the
  // exchange's latest (0 when older).
  std::uint64_t index = 0;
  std::uint64_t expected_sequence = 0;  // out_of_order: what would have applied
};

struct Position {
  std::string exchange_id;
  std::string symbol;
  std::int64_t quantity_lots = 0;
};

struct Account {
  std::int64_t cash = 0;
  std::map<std::pair<std::string, std::string>, std::int64_t> positions;  // (exchange, symbol)
};

struct StoredTrade {
  std::string exchange_id;
  Trade trade;
  std::uint64_t index = 0;  // of the entry that applied it
};

class Ledger {
 public:
  explicit Ledger(std::size_t trades_kept_max = 1'000'000) : trades_kept_max_(trades_kept_max) {}

  // Precondition: index > applied_index(), and the batch passed check().
  Applied apply(std::uint64_t index, const Batch& batch);
  // An entry without trades (a new leader's no-op) still moves the applied index.
  void skip(std::uint64_t index);

  std::uint64_t applied_index() const { return applied_index_; }
  // The sequence the exchange's next batch must have.
  std::uint64_t next_sequence(const std::string& exchange_id) const;
  // The index of the entry that applied the exchange's latest batch, if it is `sequence`.
  std::optional<std::uint64_t> index_of(const std::string& exchange_id,
                                        std::uint64_t sequence) const;
  const Account* account(const std::string& id) const;
  const StoredTrade* trade(const std::string& exchange_id, std::uint64_t trade_id) const;
  std::size_t trades_kept() const { return trades_.size(); }
  std::uint64_t trades_applied() const { return trades_applied_; }

  // The whole state, for a snapshot; load() restores it exactly (hash included).
  std::string save() const;
  static std::expected<Ledger, std::string> load(std::string_view bytes,
                                                 std::size_t trades_kept_max = 1'000'000);
  // The state's hash, kept as batches apply: O(1). Equal ledgers, equal hashes (a sum of one
  // hash per item of state: see ledger.cpp).
  std::uint64_t hash() const;
  // The same hash computed from the whole state, O(state): what hash() must always equal.
  std::uint64_t recompute_hash() const;

 private:
  struct ExchangeState {
    std::uint64_t last_sequence = 0;
    std::uint64_t last_index = 0;
  };

  void trim();  // forgets the oldest trades beyond trades_kept_max_
  // Moves `cash` into the account and `quantity` into its position at `key`, keeping the hash.
  void move(const std::string& account_id, std::int64_t cash,
            const std::pair<std::string, std::string>& key, std::int64_t quantity);

  std::size_t trades_kept_max_;
  std::uint64_t applied_index_ = 0;
  std::uint64_t trades_applied_ = 0;
  std::map<std::string, ExchangeState> exchanges_;
  std::map<std::string, Account> accounts_;
  std::deque<StoredTrade> trades_;                                          // oldest first
  std::map<std::pair<std::string, std::uint64_t>, std::size_t> trade_ids_;  // -> ordinal
  std::uint64_t first_ordinal_ = 0;  // ordinal of trades_.front()
  std::uint64_t items_hash_ = 0;     // the sum of every item's hash but the header's
};

}  // namespace mkt::ledger
