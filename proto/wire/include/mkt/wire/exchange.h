#pragma once
// The matching engine's enums on the wire (market.common.v1, market.exchange.v1), for every
// process that speaks the exchange's protocol: the exchange itself, the agents, marketctl.
// `to_proto` always has an answer; `from_proto` has none for UNSPECIFIED or a value this build
// does not know, and the caller decides what that means (a refusal, a default).

#include <optional>

#include "market/common/v1/common.pb.h"
#include "market/exchange/v1/exchange.pb.h"
#include "mkt/matching/types.h"

namespace mkt::wire {

market::common::v1::Side to_proto(matching::Side side);
std::optional<matching::Side> from_proto(market::common::v1::Side side);

market::exchange::v1::OrderType to_proto(matching::OrderType type);
std::optional<matching::OrderType> from_proto(market::exchange::v1::OrderType type);

market::exchange::v1::TimeInForce to_proto(matching::TimeInForce tif);
std::optional<matching::TimeInForce> from_proto(market::exchange::v1::TimeInForce tif);

market::exchange::v1::SelfTradePrevention to_proto(matching::SelfTrade stp);
std::optional<matching::SelfTrade> from_proto(market::exchange::v1::SelfTradePrevention stp);

market::exchange::v1::OrderCancelled::Reason to_proto(matching::CancelReason reason);
std::optional<matching::CancelReason> from_proto(market::exchange::v1::OrderCancelled::Reason r);

}  // namespace mkt::wire
