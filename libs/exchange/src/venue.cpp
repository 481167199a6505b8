#include "mkt/exchange/venue.h"

#include <fmt/format.h>

#include <algorithm>

#include "mkt/core/invariant.h"

namespace mkt::exchange {

using matching::Event;
using matching::EventKind;
using matching::Side;

std::string_view to_string(VenueReject reason) {
  switch (reason) {
    case VenueReject::unknown_symbol:
      return "unknown_symbol";
    case VenueReject::unknown_account:
      return "unknown_account";
    case VenueReject::duplicate_client_order_id:
      return "duplicate_client_order_id";
    case VenueReject::client_order_id_too_long:
      return "client_order_id_too_long";
    case VenueReject::risk_max_order_size:
      return "risk_max_order_size";
    case VenueReject::risk_max_position:
      return "risk_max_position";
    case VenueReject::risk_max_open_orders:
      return "risk_max_open_orders";
  }
  return "?";
}

bool changes_state(const Outcome& outcome) {
  // The book rejects with a single event and nothing else.
  return !outcome.rejected && !outcome.events.empty() &&
         outcome.events.front().event.kind != EventKind::rejected;
}

namespace {

std::string client_key(AccountId account, std::string_view client_order_id) {
  std::string key = std::to_string(account);
  key.push_back('/');
  key.append(client_order_id);
  return key;
}

Outcome unknown_order(OrderId id, AccountId account) {
  Outcome outcome;
  Event event;
  event.kind = EventKind::rejected;
  event.reject = matching::RejectReason::unknown_order;
  event.order_id = id;
  event.account = account;
  outcome.events.push_back({0, event, 0, 0});
  return outcome;
}

}  // namespace

Venue::Venue(VenueConfig config) : config_(std::move(config)) {
  for (const SymbolConfig& symbol : config_.symbols) {
    symbols_by_name_.emplace(symbol.name, static_cast<SymbolIndex>(books_.size()));
    books_.emplace_back(config_.book);
  }
  md_seqs_.assign(books_.size(), 0);
  history_.trades.assign(books_.size(), 0);
  history_.traded_lots.assign(books_.size(), 0);
  for (const AccountConfig& account : config_.accounts) {
    AccountInfo info;
    info.id = account.id;
    info.cash = account.initial_cash;
    info.holdings.assign(books_.size(), Holding{});
    accounts_.push_back(std::move(info));
  }
}

std::optional<SymbolIndex> Venue::symbol_index(std::string_view name) const {
  auto it = symbols_by_name_.find(std::string(name));
  if (it == symbols_by_name_.end()) return std::nullopt;
  return it->second;
}

const OrderInfo* Venue::order(OrderId id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const OrderInfo*> Venue::open_orders(AccountId account) const {
  std::vector<const OrderInfo*> result;
  for (const auto& [id, info] : orders_) {
    if (info.account == account && info.open()) result.push_back(&info);
  }
  std::sort(result.begin(), result.end(),
            [](const OrderInfo* a, const OrderInfo* b) { return a->id < b->id; });
  return result;
}

Outcome Venue::reject(VenueReject reason, std::string detail) const {
  Outcome outcome;
  outcome.rejected = reason;
  outcome.detail = std::move(detail);
  return outcome;
}

// Order size, open order count (new orders only) and the position the order could reach if all
// of the account's open orders on that side filled.
std::optional<Outcome> Venue::check_risk(AccountId account, SymbolIndex symbol, Side side,
                                         Quantity added, bool new_order) const {
  const RiskLimits& limits = config_.risk;
  const AccountInfo& info = accounts_[account];
  if (new_order && info.open_orders >= limits.max_open_orders) {
    return reject(
        VenueReject::risk_max_open_orders,
        fmt::format("account {} has {} open orders, the limit", info.id, limits.max_open_orders));
  }
  const Holding& h = info.holdings[symbol];
  const Quantity reach =
      side == Side::buy ? h.position + h.open_buy + added : h.open_sell + added - h.position;
  if (reach > limits.max_position_lots) {
    return reject(VenueReject::risk_max_position,
                  fmt::format("position could reach {} lots {}, above the limit of {}", reach,
                              side == Side::buy ? "long" : "short", limits.max_position_lots));
  }
  return std::nullopt;
}

Outcome Venue::submit(const SubmitCommand& c) {
  if (c.symbol >= books_.size()) {
    return reject(VenueReject::unknown_symbol, fmt::format("symbol #{} is not listed", c.symbol));
  }
  if (c.account >= accounts_.size()) {
    return reject(VenueReject::unknown_account, fmt::format("account #{} is unknown", c.account));
  }
  if (c.client_order_id.size() > config_.client_order_id_bytes_max) {
    return reject(VenueReject::client_order_id_too_long,
                  fmt::format("client_order_id has {} bytes, the limit is {}",
                              c.client_order_id.size(), config_.client_order_id_bytes_max));
  }
  const std::string key = client_key(c.account, c.client_order_id);
  if (!c.client_order_id.empty() && client_ids_.contains(key)) {
    return reject(VenueReject::duplicate_client_order_id,
                  fmt::format("client_order_id '{}' was already used", c.client_order_id));
  }
  if (c.order.quantity > config_.risk.max_order_quantity_lots) {
    return reject(VenueReject::risk_max_order_size,
                  fmt::format("quantity {} lots is above the limit of {}", c.order.quantity,
                              config_.risk.max_order_quantity_lots));
  }
  if (c.order.quantity > 0) {
    if (auto rejected = check_risk(c.account, c.symbol, c.order.side, c.order.quantity, true)) {
      return std::move(*rejected);
    }
  }

  matching::NewOrder order = c.order;
  order.id = next_order_id_++;
  order.account = c.account;
  OrderInfo& info = orders_[order.id];
  info.id = order.id;
  info.account = c.account;
  info.symbol = c.symbol;
  info.client_order_id = c.client_order_id;
  info.side = order.side;
  info.type = order.type;
  info.price = order.price;
  info.accepted_at_ns = c.now_ns;

  scratch_.clear();
  books_[c.symbol].submit(order, scratch_);
  Outcome outcome;
  outcome.order_id = order.id;
  if (scratch_.front().kind == EventKind::rejected) {
    // Nothing changed, not even the numbering: a rejected order is never journalled, so replay
    // must not see its id taken either.
    orders_.erase(order.id);
    --next_order_id_;
    outcome.order_id = 0;
  } else if (!c.client_order_id.empty()) {
    client_ids_.insert(key);
  }
  absorb(c.symbol, outcome);
  return outcome;
}

Outcome Venue::cancel(const CancelCommand& c) {
  const OrderInfo* info = order(c.order_id);
  if (info == nullptr || !info->open()) return unknown_order(c.order_id, c.account);
  const SymbolIndex symbol = info->symbol;
  scratch_.clear();
  books_[symbol].cancel(c.order_id, c.account, scratch_);
  Outcome outcome;
  absorb(symbol, outcome);
  return outcome;
}

Outcome Venue::modify(const ModifyCommand& c) {
  const OrderInfo* found = order(c.order_id);
  if (found == nullptr || !found->open()) return unknown_order(c.order_id, c.account);
  const OrderInfo& info = *found;
  if (info.account == c.account) {  // another account's modify is the book's not_owner
    if (c.quantity > config_.risk.max_order_quantity_lots) {
      return reject(VenueReject::risk_max_order_size,
                    fmt::format("quantity {} lots is above the limit of {}", c.quantity,
                                config_.risk.max_order_quantity_lots));
    }
    if (c.quantity > info.remaining) {
      if (auto rejected =
              check_risk(c.account, info.symbol, info.side, c.quantity - info.remaining, false)) {
        return std::move(*rejected);
      }
    }
  }
  const SymbolIndex symbol = info.symbol;
  scratch_.clear();
  books_[symbol].modify(c.order_id, c.account, c.price, c.quantity, scratch_);
  Outcome outcome;
  absorb(symbol, outcome);
  return outcome;
}

// Numbers the book's events, applies them to accounts and orders, and hands them out.
void Venue::absorb(SymbolIndex symbol, Outcome& outcome) {
  outcome.events.reserve(outcome.events.size() + scratch_.size());
  for (const Event& event : scratch_) {
    VenueEvent item{symbol, event, 0, 0};
    if (event.kind == EventKind::fill) item.trade_id = next_trade_id_++;
    if (event.kind == EventKind::fill || event.kind == EventKind::level) {
      item.md_seq = ++md_seqs_[symbol];
    }
    apply(symbol, event);
    outcome.events.push_back(item);
  }
}

void Venue::open_changed(OrderInfo& info, Quantity new_remaining) {
  Holding& h = accounts_[info.account].holdings[info.symbol];
  Quantity& open = info.side == Side::buy ? h.open_buy : h.open_sell;
  open += new_remaining - info.remaining;
  info.remaining = new_remaining;
  MKT_INVARIANT(open >= 0, "open quantity below zero");
}

void Venue::finish(OrderInfo& info, OrderInfo::Status status) {
  info.status = status;
  --accounts_[info.account].open_orders;
  finished_.push_back(info.id);
  while (finished_.size() > config_.closed_orders_kept) {
    auto old = orders_.find(finished_.front());
    finished_.pop_front();
    if (old == orders_.end()) continue;
    if (!old->second.client_order_id.empty()) {
      client_ids_.erase(client_key(old->second.account, old->second.client_order_id));
    }
    orders_.erase(old);
  }
}

void Venue::apply(SymbolIndex symbol, const Event& event) {
  auto info_of = [&](OrderId id) -> OrderInfo& {
    auto it = orders_.find(id);
    MKT_INVARIANT(it != orders_.end(), "book event for an order the venue does not know");
    return it->second;
  };
  switch (event.kind) {
    case EventKind::accepted: {
      OrderInfo& info = info_of(event.order_id);
      info.original = event.quantity;
      info.status = matching::has_stop_price(info.type) ? OrderInfo::Status::pending_trigger
                                                        : OrderInfo::Status::resting;
      ++accounts_[info.account].open_orders;
      open_changed(info, event.quantity);
      break;
    }
    case EventKind::fill: {
      const std::int64_t cash =
          event.price * event.quantity * config_.symbols[symbol].cash_per_tick_lot;
      ++history_.trades[symbol];
      history_.traded_lots[symbol] += static_cast<std::uint64_t>(event.quantity);
      for (OrderId id : {event.order_id, event.maker_order_id}) {
        OrderInfo& info = info_of(id);
        const bool buy = info.side == Side::buy;
        AccountInfo& account = accounts_[info.account];
        account.holdings[symbol].position += buy ? event.quantity : -event.quantity;
        account.cash += buy ? -cash : cash;
        info.filled += event.quantity;
        open_changed(info, info.remaining - event.quantity);
        if (info.remaining == 0) finish(info, OrderInfo::Status::filled);
      }
      break;
    }
    case EventKind::cancelled: {
      OrderInfo& info = info_of(event.order_id);
      open_changed(info, info.remaining - event.quantity);
      MKT_INVARIANT(info.remaining == 0, "a cancel leaves nothing open");
      finish(info, OrderInfo::Status::cancelled);
      break;
    }
    case EventKind::modified: {
      OrderInfo& info = info_of(event.order_id);
      info.price = event.price;
      open_changed(info, event.remaining);
      info.original = info.filled + event.remaining;
      break;
    }
    case EventKind::triggered:
      info_of(event.order_id).status = OrderInfo::Status::resting;
      break;
    case EventKind::rejected:
    case EventKind::level:
      break;
  }
}

}  // namespace mkt::exchange
