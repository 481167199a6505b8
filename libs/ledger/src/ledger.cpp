#include "mkt/ledger/ledger.h"

#include "mkt/core/codec.h"
#include "mkt/core/hash.h"
#include "mkt/core/invariant.h"

namespace mkt::ledger {

namespace {

constexpr std::uint8_t format_version = 1;

// Into a ByteWriter (entries, snapshots) or a HashWriter (the state hash): the same fields.
template <class Writer>
void write_trade(Writer& w, const Trade& t) {
  w.integer(t.trade_id);
  w.text(t.symbol);
  w.integer(t.price_ticks);
  w.integer(t.quantity_lots);
  w.integer(t.notional);
  w.text(t.buyer);
  w.text(t.seller);
  w.integer(t.buy_order_id);
  w.integer(t.sell_order_id);
  w.integer(static_cast<std::uint8_t>(t.aggressor));
  w.integer(t.executed_at_ns);
}

bool read_trade(core::ByteReader& r, Trade& t) {
  return r.integer(t.trade_id) && r.text(t.symbol) && r.integer(t.price_ticks) &&
         r.integer(t.quantity_lots) && r.integer(t.notional) && r.text(t.buyer) &&
         r.text(t.seller) && r.integer(t.buy_order_id) && r.integer(t.sell_order_id) &&
         r.enumeration(t.aggressor, 3) && r.integer(t.executed_at_ns);
}

// The state hash is a sum (mod 2^64) of one hash per item of state: an exchange's sequence, an
// account's cash, a position, a kept trade, and the applied index with the trade count. A change
// subtracts the item's old hash and adds its new one, so applying a batch costs O(its trades) and
// hash() is O(1); equal states give equal sums whatever order they were reached in.
template <class Write>
std::uint64_t item_hash(char tag, Write write) {
  core::HashWriter w;
  w.integer(tag);
  write(w);
  return w.hash();
}

std::uint64_t header_hash(std::uint64_t applied_index, std::uint64_t trades_applied) {
  return item_hash('h', [&](core::HashWriter& w) {
    w.integer(applied_index);
    w.integer(trades_applied);
  });
}

std::uint64_t exchange_hash(const std::string& id, std::uint64_t sequence, std::uint64_t index) {
  return item_hash('e', [&](core::HashWriter& w) {
    w.text(id);
    w.integer(sequence);
    w.integer(index);
  });
}

// Cash and positions change often: their names are hashed once per change, then each value.
core::HashWriter cash_name(const std::string& account) {
  core::HashWriter w;
  w.integer('c');
  w.text(account);
  return w;
}

core::HashWriter position_name(const std::string& account,
                               const std::pair<std::string, std::string>& key) {
  core::HashWriter w;
  w.integer('p');
  w.text(account);
  w.text(key.first);
  w.text(key.second);
  return w;
}

std::uint64_t value_hash(core::HashWriter name, std::int64_t value) {
  name.integer(value);
  return name.hash();
}

std::uint64_t trade_hash(const StoredTrade& stored) {
  return item_hash('t', [&](core::HashWriter& w) {
    w.text(stored.exchange_id);
    w.integer(stored.index);
    write_trade(w, stored.trade);
  });
}

}  // namespace

std::expected<void, std::string> check(const Batch& batch) {
  auto fail = [](std::string what) { return std::unexpected(std::move(what)); };
  if (batch.exchange_id.empty()) return fail("exchange_id is empty");
  if (batch.sequence == 0) return fail("sequence starts at 1");
  if (batch.trades.size() > batch_trades_max) {
    return fail("a batch holds at most " + std::to_string(batch_trades_max) + " trades");
  }
  std::uint64_t previous_id = 0;
  for (std::size_t i = 0; i < batch.trades.size(); ++i) {
    const Trade& t = batch.trades[i];
    const std::string where = "trade " + std::to_string(i) + ": ";
    if (t.trade_id <= previous_id) return fail(where + "trade ids must increase");
    previous_id = t.trade_id;
    if (t.symbol.empty()) return fail(where + "symbol is empty");
    if (t.price_ticks <= 0) return fail(where + "price_ticks must be positive");
    if (t.quantity_lots <= 0 || t.quantity_lots > quantity_lots_max) {
      return fail(where + "quantity_lots must be in 1.." + std::to_string(quantity_lots_max));
    }
    if (t.notional < 0 || t.notional > notional_max) {
      return fail(where + "notional must be in 0.." + std::to_string(notional_max));
    }
    if (t.buyer.empty() || t.seller.empty()) return fail(where + "buyer and seller are required");
  }
  return {};
}

std::expected<void, std::string> admit(const Batch& batch, const Admission& admission) {
  const auto exchange = admission.exchanges.find(batch.exchange_id);
  if (exchange == admission.exchanges.end()) {
    return std::unexpected("exchange '" + batch.exchange_id + "' is not in the scenario");
  }
  if (batch.trades.empty()) return std::unexpected("a batch holds at least one trade");
  for (std::size_t i = 0; i < batch.trades.size(); ++i) {
    const Trade& t = batch.trades[i];
    const std::string where =
        "trade " + std::to_string(i) + " (id " + std::to_string(t.trade_id) + "): ";
    const auto symbol = exchange->second.find(t.symbol);
    if (symbol == exchange->second.end()) {
      return std::unexpected(where + "symbol '" + t.symbol + "' is not listed on " +
                             batch.exchange_id);
    }
    for (const std::string* account : {&t.buyer, &t.seller}) {
      if (!admission.accounts.contains(*account)) {
        return std::unexpected(where + "account '" + *account + "' is not in the scenario");
      }
    }
    if (t.buyer == t.seller) return std::unexpected(where + "the buyer is the seller");
    // Exact, or refused: check() bounds price and quantity, so only the product may overflow.
    std::int64_t notional = 0;
    if (__builtin_mul_overflow(t.price_ticks, t.quantity_lots, &notional) ||
        __builtin_mul_overflow(notional, symbol->second, &notional) || notional != t.notional) {
      return std::unexpected(where + "notional " + std::to_string(t.notional) + " is not " +
                             std::to_string(t.price_ticks) + " ticks x " +
                             std::to_string(t.quantity_lots) + " lots x " +
                             std::to_string(symbol->second) + " per tick-lot");
    }
  }
  return {};
}

std::string encode(const Batch& batch) {
  std::string out;
  core::ByteWriter w(out);
  w.integer(format_version);
  w.text(batch.exchange_id);
  w.integer(batch.sequence);
  w.integer(static_cast<std::uint32_t>(batch.trades.size()));
  for (const Trade& t : batch.trades) write_trade(w, t);
  return out;
}

std::expected<Batch, std::string> decode(std::string_view bytes) {
  core::ByteReader r(bytes);
  Batch batch;
  std::uint8_t version = 0;
  std::uint32_t count = 0;
  if (!r.integer(version) || version != format_version) {
    return std::unexpected("unknown batch format");
  }
  if (!r.text(batch.exchange_id) || !r.integer(batch.sequence) || !r.integer(count) ||
      count > batch_trades_max) {
    return std::unexpected("malformed batch header");
  }
  batch.trades.resize(count);
  for (Trade& t : batch.trades) {
    if (!read_trade(r, t)) return std::unexpected("malformed trade");
  }
  if (!r.done()) return std::unexpected("trailing bytes after the batch");
  if (auto ok = check(batch); !ok) return std::unexpected(ok.error());
  return batch;
}

std::uint64_t Ledger::next_sequence(const std::string& exchange_id) const {
  auto it = exchanges_.find(exchange_id);
  return it == exchanges_.end() ? 1 : it->second.last_sequence + 1;
}

std::optional<std::uint64_t> Ledger::index_of(const std::string& exchange_id,
                                              std::uint64_t sequence) const {
  auto it = exchanges_.find(exchange_id);
  if (it == exchanges_.end() || it->second.last_sequence != sequence) return std::nullopt;
  return it->second.last_index;
}

void Ledger::skip(std::uint64_t index) {
  MKT_INVARIANT(index > applied_index_, "entries apply in index order, once");
  applied_index_ = index;
}

Applied Ledger::apply(std::uint64_t index, const Batch& batch) {
  skip(index);
  ExchangeState& exchange = exchanges_[batch.exchange_id];
  if (batch.sequence <= exchange.last_sequence) {
    return {Outcome::duplicate, batch.sequence == exchange.last_sequence ? exchange.last_index : 0,
            0};
  }
  if (batch.sequence != exchange.last_sequence + 1) {
    const std::uint64_t expected = exchange.last_sequence + 1;
    if (expected == 1) exchanges_.erase(batch.exchange_id);  // leave no trace
    return {Outcome::out_of_order, 0, expected};
  }
  if (exchange.last_sequence > 0) {
    items_hash_ -= exchange_hash(batch.exchange_id, exchange.last_sequence, exchange.last_index);
  }
  exchange.last_sequence = batch.sequence;
  exchange.last_index = index;
  items_hash_ += exchange_hash(batch.exchange_id, exchange.last_sequence, exchange.last_index);
  for (const Trade& t : batch.trades) {
    move(t.buyer, -t.notional, {batch.exchange_id, t.symbol}, t.quantity_lots);
    move(t.seller, t.notional, {batch.exchange_id, t.symbol}, -t.quantity_lots);
    trade_ids_[{batch.exchange_id, t.trade_id}] = first_ordinal_ + trades_.size();
    trades_.push_back({batch.exchange_id, t, index});
    items_hash_ += trade_hash(trades_.back());
    ++trades_applied_;
    trim();
  }
  return {Outcome::committed, index, 0};
}

void Ledger::move(const std::string& account_id, std::int64_t cash,
                  const std::pair<std::string, std::string>& key, std::int64_t quantity) {
  const auto [found, added] = accounts_.try_emplace(account_id);
  Account& account = found->second;
  const core::HashWriter cash_item = cash_name(account_id);
  if (!added) items_hash_ -= value_hash(cash_item, account.cash);
  account.cash += cash;
  items_hash_ += value_hash(cash_item, account.cash);
  const auto [position, opened] = account.positions.try_emplace(key, 0);
  const core::HashWriter position_item = position_name(account_id, key);
  if (!opened) items_hash_ -= value_hash(position_item, position->second);
  position->second += quantity;
  items_hash_ += value_hash(position_item, position->second);
}

std::uint64_t Ledger::recompute_hash() const {
  std::uint64_t sum = 0;
  for (const auto& [id, state] : exchanges_) {
    sum += exchange_hash(id, state.last_sequence, state.last_index);
  }
  for (const auto& [id, account] : accounts_) {
    sum += value_hash(cash_name(id), account.cash);
    for (const auto& [key, quantity] : account.positions) {
      sum += value_hash(position_name(id, key), quantity);
    }
  }
  for (const StoredTrade& stored : trades_) sum += trade_hash(stored);
  return sum + header_hash(applied_index_, trades_applied_);
}

void Ledger::trim() {
  while (trades_.size() > trades_kept_max_) {
    const StoredTrade& oldest = trades_.front();
    items_hash_ -= trade_hash(oldest);
    auto id = trade_ids_.find({oldest.exchange_id, oldest.trade.trade_id});
    if (id != trade_ids_.end() && id->second == first_ordinal_) trade_ids_.erase(id);
    trades_.pop_front();
    ++first_ordinal_;
  }
}

const Account* Ledger::account(const std::string& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const StoredTrade* Ledger::trade(const std::string& exchange_id, std::uint64_t trade_id) const {
  auto it = trade_ids_.find({exchange_id, trade_id});
  if (it == trade_ids_.end()) return nullptr;
  return &trades_[it->second - first_ordinal_];
}

std::string Ledger::save() const {
  std::string out;
  core::ByteWriter w(out);
  w.integer(format_version);
  w.integer(applied_index_);
  w.integer(trades_applied_);
  w.integer(static_cast<std::uint64_t>(exchanges_.size()));
  for (const auto& [id, state] : exchanges_) {
    w.text(id);
    w.integer(state.last_sequence);
    w.integer(state.last_index);
  }
  w.integer(static_cast<std::uint64_t>(accounts_.size()));
  for (const auto& [id, account] : accounts_) {
    w.text(id);
    w.integer(account.cash);
    w.integer(static_cast<std::uint64_t>(account.positions.size()));
    for (const auto& [key, quantity] : account.positions) {
      w.text(key.first);
      w.text(key.second);
      w.integer(quantity);
    }
  }
  w.integer(static_cast<std::uint64_t>(trades_.size()));
  for (const StoredTrade& stored : trades_) {
    w.text(stored.exchange_id);
    w.integer(stored.index);
    write_trade(w, stored.trade);
  }
  return out;
}

std::expected<Ledger, std::string> Ledger::load(std::string_view bytes,
                                                std::size_t trades_kept_max) {
  Ledger ledger(trades_kept_max);
  core::ByteReader r(bytes);
  auto bad = [](const char* what) { return std::unexpected(std::string("snapshot: ") + what); };
  std::uint8_t version = 0;
  std::uint64_t count = 0;
  if (!r.integer(version) || version != format_version) return bad("unknown format");
  if (!r.integer(ledger.applied_index_) || !r.integer(ledger.trades_applied_) ||
      !r.integer(count)) {
    return bad("header cut short");
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string id;
    ExchangeState state;
    if (!r.text(id) || !r.integer(state.last_sequence) || !r.integer(state.last_index)) {
      return bad("exchange cut short");
    }
    ledger.exchanges_.emplace(std::move(id), state);
  }
  if (!r.integer(count)) return bad("accounts cut short");
  for (std::uint64_t i = 0; i < count; ++i) {
    std::string id;
    Account account;
    std::uint64_t positions = 0;
    if (!r.text(id) || !r.integer(account.cash) || !r.integer(positions)) {
      return bad("account cut short");
    }
    for (std::uint64_t p = 0; p < positions; ++p) {
      std::pair<std::string, std::string> key;
      std::int64_t quantity = 0;
      if (!r.text(key.first) || !r.text(key.second) || !r.integer(quantity)) {
        return bad("position cut short");
      }
      account.positions.emplace(std::move(key), quantity);
    }
    ledger.accounts_.emplace(std::move(id), std::move(account));
  }
  if (!r.integer(count)) return bad("trades cut short");
  for (std::uint64_t i = 0; i < count; ++i) {
    StoredTrade stored;
    if (!r.text(stored.exchange_id) || !r.integer(stored.index) || !read_trade(r, stored.trade)) {
      return bad("trade cut short");
    }
    ledger.trade_ids_[{stored.exchange_id, stored.trade.trade_id}] = ledger.trades_.size();
    ledger.trades_.push_back(std::move(stored));
  }
  if (!r.done()) return bad("trailing bytes");
  ledger.items_hash_ =
      ledger.recompute_hash() - header_hash(ledger.applied_index_, ledger.trades_applied_);
  ledger.trim();  // a smaller trades_kept_max than the saver's drops the oldest
  return ledger;
}

std::uint64_t Ledger::hash() const {
  return items_hash_ + header_hash(applied_index_, trades_applied_);
}

}  // namespace mkt::ledger
