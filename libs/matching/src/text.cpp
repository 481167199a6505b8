#include "mkt/matching/text.h"

#include <fmt/format.h>

#include "mkt/core/enum_table.h"

namespace mkt::matching {

namespace {

using core::enum_table;

constexpr auto side_names =
    enum_table<Side, std::string_view>({{Side::buy, "buy"}, {Side::sell, "sell"}});
constexpr auto order_type_names =
    enum_table<OrderType, std::string_view>({{OrderType::limit, "limit"},
                                             {OrderType::market, "market"},
                                             {OrderType::stop, "stop"},
                                             {OrderType::stop_limit, "stop_limit"}});
constexpr auto tif_names = enum_table<TimeInForce, std::string_view>(
    {{TimeInForce::gtc, "gtc"}, {TimeInForce::ioc, "ioc"}, {TimeInForce::fok, "fok"}});
constexpr auto reject_names = enum_table<RejectReason, std::string_view>(
    {{RejectReason::invalid_quantity, "invalid_quantity"},
     {RejectReason::invalid_price, "invalid_price"},
     {RejectReason::invalid_order_type, "invalid_order_type"},
     {RejectReason::duplicate_order_id, "duplicate_order_id"},
     {RejectReason::unknown_order, "unknown_order"},
     {RejectReason::not_owner, "not_owner"},
     {RejectReason::fok_unfillable, "fok_unfillable"},
     {RejectReason::post_only_would_take, "post_only_would_take"},
     {RejectReason::no_liquidity, "no_liquidity"},
     {RejectReason::book_full, "book_full"}});
constexpr auto cancel_names =
    enum_table<CancelReason, std::string_view>({{CancelReason::requested, "requested"},
                                                {CancelReason::ioc_remainder, "ioc_remainder"},
                                                {CancelReason::self_trade, "self_trade"}});
constexpr auto event_kind_names =
    enum_table<EventKind, std::string_view>({{EventKind::accepted, "accepted"},
                                             {EventKind::rejected, "rejected"},
                                             {EventKind::fill, "fill"},
                                             {EventKind::cancelled, "cancelled"},
                                             {EventKind::modified, "modified"},
                                             {EventKind::triggered, "triggered"},
                                             {EventKind::level, "level"}});

}  // namespace

std::string_view to_string(Side side) {
  return core::name_in(side_names, side);
}
std::string_view to_string(OrderType type) {
  return core::name_in(order_type_names, type);
}
std::string_view to_string(TimeInForce tif) {
  return core::name_in(tif_names, tif);
}
std::string_view to_string(RejectReason reason) {
  return core::name_in(reject_names, reason);
}
std::string_view to_string(CancelReason reason) {
  return core::name_in(cancel_names, reason);
}
std::string_view to_string(EventKind kind) {
  return core::name_in(event_kind_names, kind);
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
