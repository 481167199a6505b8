// Every value of the engine's enums goes to the wire and back to itself, and UNSPECIFIED (or a
// value the build does not know) comes back as no value, for the caller to refuse or default.
#include "mkt/wire/exchange.h"

#include <catch2/catch_test_macros.hpp>

namespace {

namespace cpb = market::common::v1;
namespace pb = market::exchange::v1;
using namespace mkt;

template <class E>
void round_trips(std::initializer_list<E> values) {
  for (const E value : values) CHECK(wire::from_proto(wire::to_proto(value)) == value);
}

}  // namespace

TEST_CASE("wire: the engine's enums round-trip through their protobuf values") {
  round_trips({matching::Side::buy, matching::Side::sell});
  round_trips({matching::OrderType::limit, matching::OrderType::market, matching::OrderType::stop,
               matching::OrderType::stop_limit});
  round_trips({matching::TimeInForce::gtc, matching::TimeInForce::ioc, matching::TimeInForce::fok});
  round_trips({matching::SelfTrade::cancel_newest, matching::SelfTrade::cancel_oldest,
               matching::SelfTrade::cancel_both});
  round_trips({matching::CancelReason::requested, matching::CancelReason::ioc_remainder,
               matching::CancelReason::self_trade});
  CHECK(wire::to_proto(matching::Side::sell) == cpb::SIDE_SELL);
  CHECK(wire::to_proto(matching::OrderType::stop_limit) == pb::ORDER_TYPE_STOP_LIMIT);
}

TEST_CASE("wire: UNSPECIFIED and unknown values have no engine value") {
  CHECK(wire::from_proto(cpb::SIDE_UNSPECIFIED) == std::nullopt);
  CHECK(wire::from_proto(static_cast<cpb::Side>(7)) == std::nullopt);
  CHECK(wire::from_proto(pb::ORDER_TYPE_UNSPECIFIED) == std::nullopt);
  CHECK(wire::from_proto(pb::TIME_IN_FORCE_UNSPECIFIED) == std::nullopt);
  CHECK(wire::from_proto(pb::STP_UNSPECIFIED) == std::nullopt);
  CHECK(wire::from_proto(pb::OrderCancelled::REASON_UNSPECIFIED) == std::nullopt);
}
