#pragma once
// Names of the engine's enums and a one-line description of an event, for logs, error details and
// test failure messages.

#include <string>
#include <string_view>

#include "mkt/matching/types.h"

namespace mkt::matching {

std::string_view to_string(Side side);
std::string_view to_string(OrderType type);
std::string_view to_string(TimeInForce tif);
std::string_view to_string(RejectReason reason);
std::string_view to_string(CancelReason reason);
std::string_view to_string(EventKind kind);
std::string to_string(const Event& event);

}  // namespace mkt::matching
