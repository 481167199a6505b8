#include "mkt/wire/exchange.h"

#include "mkt/core/enum_table.h"

namespace mkt::wire {

namespace {

namespace cpb = market::common::v1;
namespace pb = market::exchange::v1;
using core::enum_table;

constexpr auto sides = enum_table<matching::Side, cpb::Side>(
    {{matching::Side::buy, cpb::SIDE_BUY}, {matching::Side::sell, cpb::SIDE_SELL}});
constexpr auto order_types = enum_table<matching::OrderType, pb::OrderType>(
    {{matching::OrderType::limit, pb::ORDER_TYPE_LIMIT},
     {matching::OrderType::market, pb::ORDER_TYPE_MARKET},
     {matching::OrderType::stop, pb::ORDER_TYPE_STOP},
     {matching::OrderType::stop_limit, pb::ORDER_TYPE_STOP_LIMIT}});
constexpr auto tifs = enum_table<matching::TimeInForce, pb::TimeInForce>(
    {{matching::TimeInForce::gtc, pb::TIME_IN_FORCE_GTC},
     {matching::TimeInForce::ioc, pb::TIME_IN_FORCE_IOC},
     {matching::TimeInForce::fok, pb::TIME_IN_FORCE_FOK}});
constexpr auto self_trades = enum_table<matching::SelfTrade, pb::SelfTradePrevention>(
    {{matching::SelfTrade::cancel_newest, pb::STP_CANCEL_NEWEST},
     {matching::SelfTrade::cancel_oldest, pb::STP_CANCEL_OLDEST},
     {matching::SelfTrade::cancel_both, pb::STP_CANCEL_BOTH}});
constexpr auto cancel_reasons = enum_table<matching::CancelReason, pb::OrderCancelled::Reason>(
    {{matching::CancelReason::requested, pb::OrderCancelled::REASON_REQUESTED},
     {matching::CancelReason::ioc_remainder, pb::OrderCancelled::REASON_IOC_REMAINDER},
     {matching::CancelReason::self_trade, pb::OrderCancelled::REASON_SELF_TRADE}});

}  // namespace

cpb::Side to_proto(matching::Side side) {
  return sides.second_of(side).value_or(cpb::SIDE_UNSPECIFIED);
}
std::optional<matching::Side> from_proto(cpb::Side side) {
  return sides.first_of(side);
}

pb::OrderType to_proto(matching::OrderType type) {
  return order_types.second_of(type).value_or(pb::ORDER_TYPE_UNSPECIFIED);
}
std::optional<matching::OrderType> from_proto(pb::OrderType type) {
  return order_types.first_of(type);
}

pb::TimeInForce to_proto(matching::TimeInForce tif) {
  return tifs.second_of(tif).value_or(pb::TIME_IN_FORCE_UNSPECIFIED);
}
std::optional<matching::TimeInForce> from_proto(pb::TimeInForce tif) {
  return tifs.first_of(tif);
}

pb::SelfTradePrevention to_proto(matching::SelfTrade stp) {
  return self_trades.second_of(stp).value_or(pb::STP_UNSPECIFIED);
}
std::optional<matching::SelfTrade> from_proto(pb::SelfTradePrevention stp) {
  return self_trades.first_of(stp);
}

pb::OrderCancelled::Reason to_proto(matching::CancelReason reason) {
  return cancel_reasons.second_of(reason).value_or(pb::OrderCancelled::REASON_UNSPECIFIED);
}
std::optional<matching::CancelReason> from_proto(pb::OrderCancelled::Reason reason) {
  return cancel_reasons.first_of(reason);
}

}  // namespace mkt::wire
