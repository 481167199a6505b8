#include "convert.h"

#include <fmt/format.h>

#include "mkt/matching/text.h"
#include "mkt/wire/exchange.h"

namespace mkt::exchanged {

using exchange::AccountId;
using exchange::Outcome;
using exchange::Venue;
using matching::EventKind;
using Code = grpc::StatusCode;

namespace {

Refusal refuse(Code code, pb::RejectReason reason, std::string detail) {
  return Refusal{code, reason, std::move(detail)};
}

// Unspecified means GTC for orders with a limit price and IOC for the others, which cannot rest.
std::optional<matching::TimeInForce> tif_of(pb::TimeInForce tif, matching::OrderType type) {
  if (tif == pb::TIME_IN_FORCE_UNSPECIFIED) {
    return matching::has_limit_price(type) ? matching::TimeInForce::gtc
                                           : matching::TimeInForce::ioc;
  }
  return wire::from_proto(tif);
}

// Unspecified means cancel the newest, the engine's default.
std::optional<matching::SelfTrade> self_trade_of(pb::SelfTradePrevention stp) {
  if (stp == pb::STP_UNSPECIFIED) return matching::SelfTrade::cancel_newest;
  return wire::from_proto(stp);
}

Refusal book_refusal(const matching::Event& e) {
  using R = matching::RejectReason;
  switch (e.reject) {
    case R::invalid_quantity:
      return refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_QUANTITY,
                    "the quantity is out of the book's range");
    case R::invalid_price:
      return refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_PRICE,
                    "the price is out of the book's range");
    case R::invalid_order_type:
      return refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER,
                    "the venue does not take this combination of type, time in force and "
                    "post-only (market and stop orders are IOC or FOK; post-only is for GTC "
                    "limit orders)");
    case R::duplicate_order_id:
      return refuse(Code::INTERNAL, pb::REJECT_REASON_UNSPECIFIED, "duplicate order id");
    case R::unknown_order:
      return refuse(Code::NOT_FOUND, pb::REJECT_REASON_UNKNOWN_ORDER,
                    fmt::format("order {} is not open", e.order_id));
    case R::not_owner:
      return refuse(Code::PERMISSION_DENIED, pb::REJECT_REASON_NOT_OWNER,
                    fmt::format("order {} belongs to another account", e.order_id));
    case R::fok_unfillable:
      return refuse(Code::OK, pb::REJECT_REASON_FOK_UNFILLABLE,
                    "the fill-or-kill order cannot fill in full now");
    case R::post_only_would_take:
      return refuse(Code::OK, pb::REJECT_REASON_POST_ONLY_WOULD_TAKE,
                    "the post-only order would take liquidity");
    case R::no_liquidity:
      return refuse(Code::OK, pb::REJECT_REASON_NO_LIQUIDITY, "the market order met an empty book");
    case R::book_full:
      return refuse(Code::RESOURCE_EXHAUSTED, pb::REJECT_REASON_BOOK_FULL,
                    "the symbol's book holds as many orders as it may");
  }
  return refuse(Code::INTERNAL, pb::REJECT_REASON_UNSPECIFIED,
                std::string(matching::to_string(e.reject)));
}

const std::string& client_id(const Venue& venue, matching::OrderId id) {
  static const std::string none;
  const exchange::OrderInfo* info = venue.order(id);
  return info != nullptr ? info->client_order_id : none;
}

}  // namespace

std::expected<exchange::SubmitCommand, Refusal> to_submit(const Venue& venue, AccountId account,
                                                          const pb::SubmitOrderRequest& request,
                                                          std::int64_t now_ns) {
  const auto symbol = venue.symbol_index(request.symbol());
  if (!symbol) {
    return std::unexpected(refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_UNKNOWN_SYMBOL,
                                  fmt::format("symbol '{}' is not listed on {}", request.symbol(),
                                              venue.config().exchange_id)));
  }
  const auto side = wire::from_proto(request.side());
  if (!side) {
    return std::unexpected(refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER,
                                  "side must be SIDE_BUY or SIDE_SELL"));
  }
  const auto type = wire::from_proto(request.type());
  if (!type) {
    return std::unexpected(refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER,
                                  "type must be limit, market, stop or stop-limit"));
  }
  const auto tif = tif_of(request.time_in_force(), *type);
  const auto stp = self_trade_of(request.self_trade_prevention());
  if (!tif || !stp) {
    return std::unexpected(refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER,
                                  "unknown time_in_force or self_trade_prevention"));
  }
  if (request.quantity_lots() <= 0) {
    return std::unexpected(
        refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_QUANTITY,
               fmt::format("quantity_lots must be positive, got {}", request.quantity_lots())));
  }
  const bool has_limit = matching::has_limit_price(*type);
  const bool has_stop = matching::has_stop_price(*type);
  if (has_limit && request.price_ticks() <= 0) {
    return std::unexpected(
        refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_PRICE,
               fmt::format("price_ticks must be positive, got {}", request.price_ticks())));
  }
  if (has_stop && request.stop_price_ticks() <= 0) {
    return std::unexpected(refuse(
        Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_PRICE,
        fmt::format("stop_price_ticks must be positive, got {}", request.stop_price_ticks())));
  }
  exchange::SubmitCommand command;
  command.account = account;
  command.client_order_id = request.client_order_id();
  command.symbol = *symbol;
  command.order.side = *side;
  command.order.type = *type;
  command.order.tif = *tif;
  command.order.price = has_limit ? request.price_ticks() : 0;
  command.order.stop_price = has_stop ? request.stop_price_ticks() : 0;
  command.order.quantity = request.quantity_lots();
  command.order.post_only = request.post_only();
  command.order.self_trade = *stp;
  command.now_ns = now_ns;
  return command;
}

std::expected<exchange::CancelCommand, Refusal> to_cancel(AccountId account,
                                                          const pb::CancelOrderRequest& request,
                                                          std::int64_t now_ns) {
  if (request.order_id() == 0) {
    return std::unexpected(
        refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_UNKNOWN_ORDER, "order_id is required"));
  }
  return exchange::CancelCommand{account, request.order_id(), now_ns};
}

std::expected<exchange::ModifyCommand, Refusal> to_modify(AccountId account,
                                                          const pb::ModifyOrderRequest& request,
                                                          std::int64_t now_ns) {
  if (request.order_id() == 0) {
    return std::unexpected(
        refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_UNKNOWN_ORDER, "order_id is required"));
  }
  if (request.new_quantity_lots() <= 0) {
    return std::unexpected(refuse(
        Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_QUANTITY,
        fmt::format("new_quantity_lots must be positive, got {}", request.new_quantity_lots())));
  }
  if (request.new_price_ticks() <= 0) {
    return std::unexpected(
        refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_PRICE,
               fmt::format("new_price_ticks must be positive, got {}", request.new_price_ticks())));
  }
  return exchange::ModifyCommand{account, request.order_id(), request.new_price_ticks(),
                                 request.new_quantity_lots(), now_ns};
}

std::optional<Refusal> refusal_of(const Outcome& outcome) {
  using exchange::VenueReject;
  if (outcome.rejected) {
    switch (*outcome.rejected) {
      case VenueReject::unknown_symbol:
        return refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_UNKNOWN_SYMBOL, outcome.detail);
      case VenueReject::unknown_account:
        return refuse(Code::PERMISSION_DENIED, pb::REJECT_REASON_UNSPECIFIED, outcome.detail);
      case VenueReject::duplicate_client_order_id:
        return refuse(Code::ALREADY_EXISTS, pb::REJECT_REASON_DUPLICATE_CLIENT_ID, outcome.detail);
      case VenueReject::client_order_id_too_long:
        return refuse(Code::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER, outcome.detail);
      case VenueReject::risk_max_order_size:
        return refuse(Code::FAILED_PRECONDITION, pb::REJECT_REASON_RISK_MAX_ORDER_SIZE,
                      outcome.detail);
      case VenueReject::risk_max_position:
        return refuse(Code::FAILED_PRECONDITION, pb::REJECT_REASON_RISK_MAX_POSITION,
                      outcome.detail);
      case VenueReject::risk_max_open_orders:
        return refuse(Code::FAILED_PRECONDITION, pb::REJECT_REASON_RISK_MAX_OPEN_ORDERS,
                      outcome.detail);
    }
  }
  if (!outcome.events.empty() && outcome.events.front().event.kind == EventKind::rejected) {
    return book_refusal(outcome.events.front().event);
  }
  return std::nullopt;
}

pb::OrderEvent rejected_event(const Refusal& refusal, const std::string& client_order_id,
                              std::uint64_t order_id) {
  pb::OrderEvent out;
  auto& rejected = *out.mutable_rejected();
  rejected.set_client_order_id(client_order_id);
  rejected.set_order_id(order_id);
  rejected.set_reason(refusal.reason);
  rejected.set_detail(refusal.detail);
  rejected.set_retry_after_ms(refusal.retry_after_ms);
  return out;
}

std::vector<AccountEvent> order_events(const Venue& venue, const Outcome& outcome,
                                       std::int64_t now_ns) {
  std::vector<AccountEvent> out;
  for (const exchange::VenueEvent& item : outcome.events) {
    const matching::Event& e = item.event;
    const std::string& symbol = venue.config().symbols[item.symbol].name;
    switch (e.kind) {
      case EventKind::accepted: {
        auto& accepted = *out.emplace_back(AccountEvent{e.account, {}}).event.mutable_accepted();
        accepted.set_order_id(e.order_id);
        accepted.set_client_order_id(client_id(venue, e.order_id));
        accepted.set_symbol(symbol);
        accepted.set_accepted_at_ns(now_ns);
        break;
      }
      case EventKind::rejected:  // only a command's first event, which refusal_of reports
        break;
      case EventKind::fill: {
        struct Side {
          AccountId account;
          matching::OrderId order;
          matching::Side side;
          matching::Quantity remaining;
          pb::Liquidity liquidity;
        };
        for (const Side& s : {Side{e.account, e.order_id, e.side, e.remaining, pb::LIQUIDITY_TAKER},
                              Side{e.maker_account, e.maker_order_id, matching::opposite(e.side),
                                   e.maker_remaining, pb::LIQUIDITY_MAKER}}) {
          auto& fill = *out.emplace_back(AccountEvent{s.account, {}}).event.mutable_fill();
          fill.set_order_id(s.order);
          fill.set_client_order_id(client_id(venue, s.order));
          fill.set_trade_id(item.trade_id);
          fill.set_symbol(symbol);
          fill.set_side(wire::to_proto(s.side));
          fill.set_price_ticks(e.price);
          fill.set_quantity_lots(e.quantity);
          fill.set_remaining_quantity_lots(s.remaining);
          fill.set_liquidity(s.liquidity);
          fill.set_executed_at_ns(now_ns);
        }
        break;
      }
      case EventKind::cancelled: {
        auto& cancelled = *out.emplace_back(AccountEvent{e.account, {}}).event.mutable_cancelled();
        cancelled.set_order_id(e.order_id);
        cancelled.set_client_order_id(client_id(venue, e.order_id));
        cancelled.set_cancelled_quantity_lots(e.quantity);
        cancelled.set_reason(wire::to_proto(e.cancel));
        break;
      }
      case EventKind::modified: {
        auto& modified = *out.emplace_back(AccountEvent{e.account, {}}).event.mutable_modified();
        modified.set_order_id(e.order_id);
        modified.set_client_order_id(client_id(venue, e.order_id));
        modified.set_price_ticks(e.price);
        modified.set_remaining_quantity_lots(e.remaining);
        modified.set_kept_priority(e.kept_priority);
        break;
      }
      case EventKind::triggered: {
        auto& triggered = *out.emplace_back(AccountEvent{e.account, {}}).event.mutable_triggered();
        triggered.set_order_id(e.order_id);
        triggered.set_client_order_id(client_id(venue, e.order_id));
        triggered.set_trigger_trade_price_ticks(e.price);
        break;
      }
      case EventKind::level:
        break;
    }
  }
  return out;
}

std::vector<SymbolMarketData> market_data(const Venue& venue, const Outcome& outcome,
                                          std::int64_t now_ns) {
  std::vector<SymbolMarketData> out;
  for (const exchange::VenueEvent& item : outcome.events) {
    const matching::Event& e = item.event;
    if (e.kind == EventKind::level) {
      auto& delta = *out.emplace_back(SymbolMarketData{item.symbol, {}}).event.mutable_delta();
      delta.set_symbol(venue.config().symbols[item.symbol].name);
      delta.set_seq(item.md_seq);
      delta.set_side(wire::to_proto(e.side));
      delta.mutable_level()->set_price_ticks(e.price);
      delta.mutable_level()->set_quantity_lots(e.quantity);
      delta.mutable_level()->set_order_count(e.level_orders);
    } else if (e.kind == EventKind::fill) {
      auto& trade = *out.emplace_back(SymbolMarketData{item.symbol, {}}).event.mutable_trade();
      trade.set_symbol(venue.config().symbols[item.symbol].name);
      trade.set_seq(item.md_seq);
      trade.set_trade_id(item.trade_id);
      trade.set_price_ticks(e.price);
      trade.set_quantity_lots(e.quantity);
      trade.set_aggressor_side(wire::to_proto(e.side));
      trade.set_executed_at_ns(now_ns);
    }
  }
  return out;
}

std::vector<market::telemetry::v1::Event> telemetry_events(
    const Venue& venue, const Outcome& outcome, const std::vector<exchange::SettledTrade>& trades,
    bool orders, bool with_trades) {
  std::vector<market::telemetry::v1::Event> out;
  const std::string& exchange_id = venue.config().exchange_id;
  if (orders) {
    for (const exchange::VenueEvent& item : outcome.events) {
      const matching::Event& e = item.event;
      const char* what = nullptr;
      switch (e.kind) {
        case EventKind::accepted:
          what = "accepted";
          break;
        case EventKind::cancelled:
          what = "cancelled";
          break;
        case EventKind::modified:
          what = "modified";
          break;
        case EventKind::triggered:
          what = "triggered";
          break;
        default:
          continue;
      }
      auto& order = *out.emplace_back().mutable_order();
      order.set_exchange_id(exchange_id);
      order.set_account_id(venue.account(e.account).id);
      order.set_order_id(e.order_id);
      order.set_symbol(venue.config().symbols[item.symbol].name);
      order.set_what(what);
      order.set_side(wire::to_proto(e.side));
      order.set_price_ticks(e.price);
      order.set_quantity_lots(e.kind == EventKind::cancelled ? e.quantity : e.remaining);
    }
  }
  if (with_trades) {
    for (const exchange::SettledTrade& t : trades) {
      auto& trade = *out.emplace_back().mutable_trade();
      trade.set_exchange_id(exchange_id);
      trade.set_trade_id(t.trade_id);
      trade.set_symbol(venue.config().symbols[t.symbol].name);
      trade.set_price_ticks(t.price);
      trade.set_quantity_lots(t.quantity);
      trade.set_buyer_account(venue.account(t.buyer).id);
      trade.set_seller_account(venue.account(t.seller).id);
    }
  }
  return out;
}

market::telemetry::v1::Event rejection_telemetry(const Venue& venue, AccountId account,
                                                 const Refusal& refusal, std::uint64_t order_id) {
  market::telemetry::v1::Event out;
  auto& order = *out.mutable_order();
  order.set_exchange_id(venue.config().exchange_id);
  order.set_account_id(venue.account(account).id);
  order.set_order_id(order_id);
  order.set_what("rejected");
  order.set_detail(pb::RejectReason_Name(refusal.reason) + ": " + refusal.detail);
  return out;
}

pb::OrderState order_state(const Venue& venue, const exchange::OrderInfo& order) {
  pb::OrderState out;
  out.set_order_id(order.id);
  out.set_client_order_id(order.client_order_id);
  out.set_symbol(venue.config().symbols[order.symbol].name);
  out.set_side(wire::to_proto(order.side));
  out.set_type(wire::to_proto(order.type));
  out.set_price_ticks(order.price);
  out.set_original_quantity_lots(order.original);
  out.set_filled_quantity_lots(order.filled);
  out.set_remaining_quantity_lots(order.remaining);
  using S = exchange::OrderInfo::Status;
  switch (order.status) {
    case S::pending_trigger:
      out.set_status(pb::OrderState::STATUS_PENDING_TRIGGER);
      break;
    case S::resting:
      out.set_status(pb::OrderState::STATUS_RESTING);
      break;
    case S::filled:
      out.set_status(pb::OrderState::STATUS_FILLED);
      break;
    case S::cancelled:
      out.set_status(pb::OrderState::STATUS_CANCELLED);
      break;
  }
  return out;
}

pb::AccountState account_state(const Venue& venue, AccountId account) {
  const exchange::AccountInfo& info = venue.account(account);
  pb::AccountState out;
  out.set_account_id(info.id);
  out.set_cash(info.cash);
  for (std::size_t s = 0; s < info.holdings.size(); ++s) {
    auto& position = *out.add_positions();
    position.set_symbol(venue.config().symbols[s].name);
    position.set_quantity_lots(info.holdings[s].position);
  }
  for (const exchange::OrderInfo* order : venue.open_orders(account)) {
    *out.add_open_orders() = order_state(venue, *order);
  }
  const exchange::RiskLimits& limits = venue.config().risk;
  out.mutable_limits()->set_max_order_quantity_lots(limits.max_order_quantity_lots);
  out.mutable_limits()->set_max_position_lots(limits.max_position_lots);
  out.mutable_limits()->set_max_open_orders(limits.max_open_orders);
  return out;
}

}  // namespace mkt::exchanged
