#include "mkt/agents/trader.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "mkt/core/hash.h"

namespace mkt::agents {

std::int64_t Random::between(std::int64_t lo, std::int64_t hi) {
  if (hi <= lo) return lo;
  const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
  return lo + static_cast<std::int64_t>(next() % span);
}

double Random::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.141592653589793 * u2);
}

std::string_view to_string(RiskRefusal refusal) {
  switch (refusal) {
    case RiskRefusal::unknown_venue_or_symbol:
      return "unknown_venue_or_symbol";
    case RiskRefusal::invalid_quantity:
      return "invalid_quantity";
    case RiskRefusal::invalid_price:
      return "invalid_price";
    case RiskRefusal::order_size:
      return "order_size";
    case RiskRefusal::position:
      return "position";
    case RiskRefusal::open_orders:
      return "open_orders";
  }
  return "unknown";
}

Trader::Trader(TraderConfig config, std::unique_ptr<Strategy> strategy)
    : config_(std::move(config)),
      strategy_(std::move(strategy)),
      random_(core::mix64(config_.seed ^ core::fnv1a64(config_.agent_id))),
      cash_cents_(config_.initial_cash_cents),
      gossip_(config_.agent_id, config_.gossip),
      reputation_(config_.reputation) {
  if (config_.order_prefix.empty()) config_.order_prefix = config_.agent_id;
  for (const auto& venue : config_.venues) {
    auto& state = venues_[venue.id];
    for (const auto& symbol : venue.symbols) state.books[symbol];
  }
  for (std::size_t i = 0; i < config_.symbols.size(); ++i) {
    const auto& symbol = config_.symbols[i];
    FundamentalParams params;
    if (i < config_.fundamentals.size()) params = config_.fundamentals[i];
    params.reference_ticks = symbol.reference_ticks;
    fundamentals_.emplace(symbol.name, FundamentalValue(config_.seed, symbol.name, params));
  }
}

Trader::~Trader() = default;

LocalBook* Trader::book(std::string_view venue, std::string_view symbol) {
  const auto v = venues_.find(venue);
  if (v == venues_.end()) return nullptr;
  const auto b = v->second.books.find(symbol);
  return b == v->second.books.end() ? nullptr : &b->second;
}

Outbox Trader::decide(std::int64_t now_ns) {
  reputation_.settle(now_ns, [this](std::string_view symbol) { return mark_ticks(symbol); });
  Decisions decisions;
  View view(*this, now_ns);
  strategy_->decide(view, decisions);
  return collect(decisions, now_ns);
}

Outbox Trader::collect(Decisions& decisions, std::int64_t now_ns) {
  Outbox out;
  for (const std::uint64_t id : decisions.cancels) {
    const auto it = orders_.find(id);
    if (it == orders_.end() || it->second.cancel_requested) continue;
    OwnOrder& order = it->second;
    order.cancel_requested = true;
    if (order.status == OrderStatus::queued) {
      orders_.erase(it);  // never sent: sent() will say so
    } else if (order.status == OrderStatus::open) {
      out.cancels.push_back(order);
    }  // sent: cancelled on its acceptance
  }
  for (auto& request : decisions.orders) {
    if (auto order = place(std::move(request), now_ns)) out.orders.push_back(std::move(*order));
  }
  for (const auto& signal : decisions.signals) {
    out.signals.push_back(gossip_.originate(signal, now_ns));
  }
  out.coordinated = std::move(decisions.coordinated);
  return out;
}

std::expected<OwnOrder, RiskRefusal> Trader::place(OrderRequest request, std::int64_t now_ns) {
  if (const auto refusal = check(request)) {
    ++refused_[*refusal];
    return std::unexpected(*refusal);
  }
  OwnOrder order;
  order.id = next_order_id_++;
  order.request = std::move(request);
  order.remaining_lots = order.request.quantity_lots;
  order.decided_ns = now_ns;
  orders_.emplace(order.id, order);
  return order;
}

Admission Trader::on_signal(const PeerSignal& signal, std::int64_t now_ns) {
  const Admission admission = gossip_.admit(signal, now_ns);
  if (admission != Admission::fresh) return admission;
  reputation_.received(signal);
  const auto fundamental = fundamentals_.find(signal.symbol);
  if (fundamental == fundamentals_.end()) return admission;  // not a symbol it can judge
  switch (signal.kind) {
    case SignalKind::fair_value: {
      // Its own look at the value, with noise well inside the tolerance.
      const std::int64_t value = fundamental->second.at((now_ns - config_.epoch_ns) / 1'000'000);
      const double noise = static_cast<double>(reputation_.value_tolerance_ticks(value)) / 4;
      reputation_.judge_value(signal,
                              std::llround(static_cast<double>(value) + noise * random_.normal()));
      break;
    }
    case SignalKind::buy:
    case SignalKind::sell:
      reputation_.expect_move(signal, mark_ticks(signal.symbol), now_ns);
      break;
    case SignalKind::volatility:
    case SignalKind::arbitrage:
      break;
  }
  return admission;
}

std::optional<RiskRefusal> Trader::check(const OrderRequest& request) const {
  const auto venue = venues_.find(request.venue);
  if (venue == venues_.end() || !venue->second.books.contains(request.symbol)) {
    return RiskRefusal::unknown_venue_or_symbol;
  }
  if (request.quantity_lots <= 0) return RiskRefusal::invalid_quantity;
  if (request.price_ticks < 0) return RiskRefusal::invalid_price;
  if (request.quantity_lots > config_.risk.max_order_lots) return RiskRefusal::order_size;
  std::int64_t open_same_side = 0;
  std::size_t live = 0;
  for (const auto& [id, order] : orders_) {
    ++live;
    if (order.request.symbol == request.symbol && order.request.side == request.side) {
      open_same_side += order.remaining_lots;
    }
  }
  if (live >= config_.risk.max_open_orders) return RiskRefusal::open_orders;
  const std::int64_t exposure = open_same_side + request.quantity_lots;
  const std::int64_t pos = position(request.symbol);
  const std::int64_t after = request.side == Side::buy ? pos + exposure : pos - exposure;
  if (after > config_.risk.max_position_lots || after < -config_.risk.max_position_lots) {
    // An order that only reduces the position is always allowed.
    const bool reduces =
        request.side == Side::buy ? pos < 0 && pos + exposure <= 0 : pos > 0 && pos - exposure >= 0;
    if (!reduces) return RiskRefusal::position;
  }
  return std::nullopt;
}

bool Trader::sent(std::uint64_t order_id, std::int64_t now_ns) {
  const auto it = orders_.find(order_id);
  if (it == orders_.end() || it->second.status != OrderStatus::queued) return false;
  it->second.status = OrderStatus::sent;
  it->second.sent_ns = now_ns;
  return true;
}

bool Trader::on_accepted(std::uint64_t order_id, std::uint64_t exchange_id, std::int64_t now_ns,
                         std::optional<OwnOrder>* cancel_now) {
  const auto it = orders_.find(order_id);
  if (it == orders_.end()) return false;
  OwnOrder& order = it->second;
  order.exchange_id = exchange_id;
  if (order.status == OrderStatus::sent) {
    order.status = OrderStatus::open;
    auto& rtt = venues_[order.request.venue].round_trip_ns;
    const std::int64_t sample = now_ns - order.sent_ns;
    if (sample >= 0) rtt = rtt == 0 ? sample : rtt + (sample - rtt) / 8;
  }
  if (order.cancel_requested && cancel_now != nullptr) *cancel_now = order;
  return true;
}

bool Trader::on_rejected(std::uint64_t order_id, std::int64_t /*now_ns*/) {
  const auto it = orders_.find(order_id);
  if (it == orders_.end()) return false;
  orders_.erase(it);
  return true;
}

bool Trader::on_fill(std::uint64_t order_id, std::int64_t price_ticks, std::int64_t quantity_lots,
                     std::int64_t remaining_lots, std::int64_t now_ns) {
  const auto it = orders_.find(order_id);
  if (it == orders_.end()) return false;
  OwnOrder& order = it->second;
  const SymbolInfo* info = symbol_info(order.request.symbol);
  const std::int64_t cents = price_ticks * quantity_lots * (info ? info->cents_per_tick_lot : 1);
  const bool buy = order.request.side == Side::buy;
  positions_[order.request.symbol] += buy ? quantity_lots : -quantity_lots;
  cash_cents_ += buy ? -cents : cents;
  order.filled_lots += quantity_lots;
  order.remaining_lots = remaining_lots;
  ++fills_;
  traded_lots_ += quantity_lots;
  const OwnFill fill{.order_id = order_id,
                     .venue = order.request.venue,
                     .symbol = order.request.symbol,
                     .side = order.request.side,
                     .price_ticks = price_ticks,
                     .quantity_lots = quantity_lots};
  if (remaining_lots <= 0) orders_.erase(it);
  View view(*this, now_ns);
  strategy_->on_fill(view, fill);
  return true;
}

bool Trader::on_cancelled(std::uint64_t order_id) {
  return orders_.erase(order_id) > 0;
}

std::size_t Trader::venue_lost(std::string_view venue) {
  std::size_t unanswered = 0;
  std::erase_if(orders_, [&](const auto& entry) {
    const bool lost =
        entry.second.request.venue == venue && entry.second.status != OrderStatus::queued;
    if (lost && entry.second.status == OrderStatus::sent) ++unanswered;
    return lost;
  });
  return unanswered;
}

std::int64_t Trader::position(std::string_view symbol) const {
  const auto it = positions_.find(symbol);
  return it == positions_.end() ? 0 : it->second;
}

std::int64_t Trader::mark_ticks(std::string_view symbol) const {
  std::int64_t last = 0;
  for (const auto& [id, venue] : venues_) {
    const auto book = venue.books.find(symbol);
    if (book == venue.books.end() || !book->second.ready()) continue;
    if (const auto mid = book->second.mid_x2()) return *mid / 2;
    if (last == 0) last = book->second.last_trade_ticks();
  }
  if (last != 0) return last;
  const SymbolInfo* info = symbol_info(symbol);
  return info ? info->reference_ticks : 0;
}

std::int64_t Trader::pnl_cents() const {
  std::int64_t equity = cash_cents_;
  for (const auto& [symbol, lots] : positions_) {
    const SymbolInfo* info = symbol_info(symbol);
    equity += lots * mark_ticks(symbol) * (info ? info->cents_per_tick_lot : 1);
  }
  return equity - config_.initial_cash_cents;
}

const OwnOrder* Trader::order(std::uint64_t id) const {
  const auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::vector<const OwnOrder*> Trader::live_orders() const {
  std::vector<const OwnOrder*> out;
  out.reserve(orders_.size());
  for (const auto& [id, order] : orders_) out.push_back(&order);
  return out;
}

std::uint64_t Trader::refused(RiskRefusal refusal) const {
  const auto it = refused_.find(refusal);
  return it == refused_.end() ? 0 : it->second;
}

std::int64_t Trader::round_trip_ns(std::string_view venue) const {
  const auto it = venues_.find(venue);
  return it == venues_.end() ? 0 : it->second.round_trip_ns;
}

std::optional<std::uint64_t> Trader::order_id_of(std::string_view client_order_id) const {
  const std::string_view prefix = config_.order_prefix;
  if (client_order_id.size() <= prefix.size() + 1 || !client_order_id.starts_with(prefix) ||
      client_order_id[prefix.size()] != '-') {
    return std::nullopt;
  }
  const std::string_view digits = client_order_id.substr(prefix.size() + 1);
  std::uint64_t id = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

std::string Trader::client_order_id(std::uint64_t order_id) const {
  return config_.order_prefix + "-" + std::to_string(order_id);
}

const SymbolInfo* Trader::symbol_info(std::string_view symbol) const {
  for (const auto& info : config_.symbols) {
    if (info.name == symbol) return &info;
  }
  return nullptr;
}

std::int64_t View::market_ms() const {
  return (now_ns_ - trader_.config_.epoch_ns) / 1'000'000;
}

const LocalBook* View::book(std::string_view venue, std::string_view symbol) const {
  const LocalBook* book = trader_.book(venue, symbol);
  return book != nullptr && book->ready() ? book : nullptr;
}

std::int64_t View::observe_value(std::string_view symbol, double noise_ticks) {
  const auto it = trader_.fundamentals_.find(symbol);
  if (it == trader_.fundamentals_.end()) return 0;
  const double value = static_cast<double>(it->second.at(market_ms()));
  const double seen = value + noise_ticks * trader_.random_.normal();
  return std::max<std::int64_t>(1, std::llround(seen));
}

std::vector<WeightedSignal> View::peer_signals(std::string_view symbol) const {
  std::vector<WeightedSignal> out;
  for (const PeerSignal* s : trader_.gossip_.live(symbol, now_ns_)) {
    if (!trader_.reputation_.trusted(s->origin)) continue;
    out.push_back(
        {.signal = s,
         .weight = trader_.gossip_.weight(*s, now_ns_) * trader_.reputation_.of(s->origin)});
  }
  return out;
}

std::optional<std::int64_t> View::others_best(std::string_view venue, std::string_view symbol,
                                              Side side) const {
  const LocalBook* b = book(venue, symbol);
  if (b == nullptr) return std::nullopt;
  for (const BookLevel& level : side == Side::buy ? b->bids() : b->asks()) {
    std::int64_t own = 0;
    for (const auto& [id, order] : trader_.orders_) {
      const OrderRequest& r = order.request;
      if (order.status == OrderStatus::open && r.venue == venue && r.symbol == symbol &&
          r.side == side && r.price_ticks == level.price_ticks) {
        own += order.remaining_lots;
      }
    }
    if (level.quantity_lots > own) return level.price_ticks;
  }
  return std::nullopt;
}

std::int64_t View::anchor_ticks(std::string_view venue, std::string_view symbol) const {
  if (const LocalBook* b = book(venue, symbol)) {
    if (const auto mid = b->mid_x2()) return *mid / 2;
    if (b->last_trade_ticks() > 0) return b->last_trade_ticks();
  }
  const SymbolInfo* info = trader_.symbol_info(symbol);
  return info ? info->reference_ticks : 0;
}

}  // namespace mkt::agents
