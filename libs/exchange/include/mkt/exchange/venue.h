#pragma once
// One trading venue: the books of its symbols, its accounts with their positions, cash and risk
// limits, client order ids, order and trade numbering, and the market data sequence of each
// symbol. I/O-free and deterministic: a command carries its own time, so replaying the journal of
// commands rebuilds the venue exactly, with the same ids and sequence numbers.
//
// A command is checked by the venue first (symbol, account, client order id, risk limits) and
// then by the book; either way a rejected command changes nothing. One owner (one strand) calls it.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "mkt/matching/order_book.h"

namespace mkt::exchange {

using matching::AccountId;
using matching::OrderId;
using matching::Price;
using matching::Quantity;
using TradeId = std::uint64_t;
using SymbolIndex = std::uint32_t;

struct RiskLimits {
  Quantity max_order_quantity_lots = 1'000'000;
  Quantity max_position_lots = 10'000'000;  // absolute, per symbol, counting open orders
  std::uint32_t max_open_orders = 10'000;
};

struct SymbolConfig {
  std::string name;
  std::int64_t cash_per_tick_lot = 1;  // cents of one tick on one lot
  Price reference_price_ticks = 0;
};

struct AccountConfig {
  std::string id;
  std::int64_t initial_cash = 0;  // cents
};

struct VenueConfig {
  std::string exchange_id;
  std::vector<SymbolConfig> symbols;
  std::vector<AccountConfig> accounts;
  RiskLimits risk;
  matching::BookLimits book;
  std::size_t client_order_id_bytes_max = 64;
  std::size_t closed_orders_kept = 100'000;  // how many finished orders GetOrder still knows
};

// Rejections decided by the venue before an order reaches its book.
enum class VenueReject : std::uint8_t {
  unknown_symbol,
  unknown_account,
  duplicate_client_order_id,
  client_order_id_too_long,
  risk_max_order_size,
  risk_max_position,
  risk_max_open_orders,
};
std::string_view to_string(VenueReject reason);

struct SubmitCommand {
  AccountId account = 0;
  std::string client_order_id;
  SymbolIndex symbol = 0;
  matching::NewOrder order;  // id is assigned by the venue
  std::int64_t now_ns = 0;
};

struct CancelCommand {
  AccountId account = 0;
  OrderId order_id = 0;
  std::int64_t now_ns = 0;
};

struct ModifyCommand {
  AccountId account = 0;
  OrderId order_id = 0;
  Price price = 0;
  Quantity quantity = 0;
  std::int64_t now_ns = 0;
};

// One event of the venue: a book event of a symbol, numbered where the world sees it.
struct VenueEvent {
  SymbolIndex symbol = 0;
  matching::Event event;
  TradeId trade_id = 0;      // fill
  std::uint64_t md_seq = 0;  // fill and level: the symbol's market data sequence number
};

// What one command did: a venue rejection, or the book's events in order.
struct Outcome {
  std::optional<VenueReject> rejected;
  std::string detail;    // for a venue rejection
  OrderId order_id = 0;  // the id a submit was given (0 if rejected)
  std::vector<VenueEvent> events;
};

// Whether the command changed the venue, so that it must be journalled. A rejected command (by the
// venue or by the book) changes nothing, its numbering included, and replay can skip it.
bool changes_state(const Outcome& outcome);

struct OrderInfo {
  OrderId id = 0;
  AccountId account = 0;
  SymbolIndex symbol = 0;
  std::string client_order_id;
  matching::Side side = matching::Side::buy;
  matching::OrderType type = matching::OrderType::limit;
  Price price = 0;
  Quantity original = 0;  // at acceptance, then after each modify: filled + new remaining
  Quantity filled = 0;
  Quantity remaining = 0;
  enum class Status : std::uint8_t { pending_trigger, resting, filled, cancelled } status{};
  std::int64_t accepted_at_ns = 0;

  // Resting or waiting for its trigger: it can still be cancelled or modified.
  bool open() const { return status == Status::resting || status == Status::pending_trigger; }
};

struct Holding {
  Quantity position = 0;  // signed lots
  Quantity open_buy = 0;
  Quantity open_sell = 0;
};

struct AccountInfo {
  std::string id;
  std::int64_t cash = 0;
  std::vector<Holding> holdings;  // per symbol
  std::uint32_t open_orders = 0;
};

class Venue {
 public:
  explicit Venue(VenueConfig config);

  Outcome submit(const SubmitCommand& command);
  Outcome cancel(const CancelCommand& command);
  Outcome modify(const ModifyCommand& command);

  const VenueConfig& config() const { return config_; }
  std::optional<SymbolIndex> symbol_index(std::string_view name) const;
  const AccountInfo& account(AccountId account) const { return accounts_[account]; }
  // Open orders and recently finished ones; null when unknown.
  const OrderInfo* order(OrderId id) const;
  std::vector<const OrderInfo*> open_orders(AccountId account) const;
  const matching::OrderBook& book(SymbolIndex symbol) const { return books_[symbol]; }
  // The symbol's last market data sequence number (0 before any change).
  std::uint64_t md_seq(SymbolIndex symbol) const { return md_seqs_[symbol]; }
  TradeId last_trade_id() const { return next_trade_id_ - 1; }
  OrderId last_order_id() const { return next_order_id_ - 1; }

  // What the venue has done since its journal began, replayed or live: the figures that describe
  // its history, which a restarted exchange's counters start from.
  struct History {
    std::vector<std::uint64_t> trades;        // per symbol
    std::vector<std::uint64_t> traded_lots;   // per symbol
    std::array<std::uint64_t, 3> commands{};  // that changed the venue: submits, cancels, modifies
  };
  const History& history() const { return history_; }
  // run_command's: a command of that kind (its index in Command) changed the venue.
  void counted_command(std::size_t kind) { ++history_.commands.at(kind); }

 private:
  Outcome reject(VenueReject reason, std::string detail) const;
  std::optional<Outcome> check_risk(AccountId account, SymbolIndex symbol, matching::Side side,
                                    Quantity added, bool new_order) const;
  void absorb(SymbolIndex symbol, Outcome& outcome);
  void apply(SymbolIndex symbol, const matching::Event& event);
  void open_changed(OrderInfo& info, Quantity new_remaining);
  void finish(OrderInfo& info, OrderInfo::Status status);

  VenueConfig config_;
  std::vector<matching::OrderBook> books_;
  std::vector<std::uint64_t> md_seqs_;
  std::vector<AccountInfo> accounts_;
  std::unordered_map<std::string, SymbolIndex> symbols_by_name_;
  std::unordered_map<OrderId, OrderInfo> orders_;  // open and recently finished
  std::deque<OrderId> finished_;                   // oldest first, bounded
  // (account, client order id) of open and recently finished orders.
  std::unordered_set<std::string> client_ids_;
  std::vector<matching::Event> scratch_;
  OrderId next_order_id_ = 1;
  TradeId next_trade_id_ = 1;
  History history_;
};

}  // namespace mkt::exchange
