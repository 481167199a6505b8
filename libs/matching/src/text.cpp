#include "mkt/matching/text.h"

#include <fmt/format.h>

namespace mkt::matching {

std::string_view to_string(Side side) {
  return side == Side::buy ? "buy" : "sell";
}

std::string_view to_string(OrderType type) {
  switch (type) {
    case OrderType::limit:
      return "limit";
    case OrderType::market:
      return "market";
    case OrderType::stop:
      return "stop";
    case OrderType::stop_limit:
      return "stop_limit";
  }
  return "?";
}

std::string_view to_string(TimeInForce tif) {
  switch (tif) {
    case TimeInForce::gtc:
      return "gtc";
    case TimeInForce::ioc:
      return "ioc";
    case TimeInForce::fok:
      return "fok";
  }
  return "?";
}

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::invalid_quantity:
      return "invalid_quantity";
    case RejectReason::invalid_price:
      return "invalid_price";
    case RejectReason::invalid_order_type:
      return "invalid_order_type";
    case RejectReason::duplicate_order_id:
      return "duplicate_order_id";
    case RejectReason::unknown_order:
      return "unknown_order";
    case RejectReason::not_owner:
      return "not_owner";
    case RejectReason::fok_unfillable:
      return "fok_unfillable";
    case RejectReason::post_only_would_take:
      return "post_only_would_take";
    case RejectReason::no_liquidity:
      return "no_liquidity";
    case RejectReason::book_full:
      return "book_full";
  }
  return "?";
}

std::string_view to_string(CancelReason reason) {
  switch (reason) {
    case CancelReason::requested:
      return "requested";
    case CancelReason::ioc_remainder:
      return "ioc_remainder";
    case CancelReason::self_trade:
      return "self_trade";
  }
  return "?";
}

std::string_view to_string(EventKind kind) {
  switch (kind) {
    case EventKind::accepted:
      return "accepted";
    case EventKind::rejected:
      return "rejected";
    case EventKind::fill:
      return "fill";
    case EventKind::cancelled:
      return "cancelled";
    case EventKind::modified:
      return "modified";
    case EventKind::triggered:
      return "triggered";
    case EventKind::level:
      return "level";
  }
  return "?";
}

std::string to_string(const Event& e) {
  switch (e.kind) {
    case EventKind::accepted:
      return fmt::format("accepted #{} acct {} {} {}@{}", e.order_id, e.account, to_string(e.side),
                         e.quantity, e.price);
    case EventKind::rejected:
      return fmt::format("rejected #{} acct {} {}", e.order_id, e.account, to_string(e.reject));
    case EventKind::fill:
      return fmt::format("fill #{} {} {}@{} left {} with #{} (acct {}) left {}", e.order_id,
                         to_string(e.side), e.quantity, e.price, e.remaining, e.maker_order_id,
                         e.maker_account, e.maker_remaining);
    case EventKind::cancelled:
      return fmt::format("cancelled #{} {} {} ({})", e.order_id, to_string(e.side), e.quantity,
                         to_string(e.cancel));
    case EventKind::modified:
      return fmt::format("modified #{} {}@{} {}", e.order_id, e.remaining, e.price,
                         e.kept_priority ? "kept priority" : "lost priority");
    case EventKind::triggered:
      return fmt::format("triggered #{} at last {} open {}", e.order_id, e.price, e.remaining);
    case EventKind::level:
      return fmt::format("level {} {}: {} in {}", to_string(e.side), e.price, e.quantity,
                         e.level_orders);
  }
  return "?";
}

}  // namespace mkt::matching
