#pragma once
// Between the wire and the venue: requests become venue commands (or a refusal that says why), and
// what a command did becomes order events for the accounts concerned and market data for everyone.
// No I/O and no state of its own, so it is tested without a server.

#include <grpcpp/support/status.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "market/exchange/v1/exchange.pb.h"
#include "market/telemetry/v1/telemetry.pb.h"
#include "mkt/exchange/journal.h"
#include "mkt/exchange/settlement.h"

namespace mkt::exchanged {

namespace pb = market::exchange::v1;

// Why a request did not become what it asked for: the status a unary call answers with (OK for
// orders that were valid but could not trade) and the rejection to report.
struct Refusal {
  grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT;
  pb::RejectReason reason = pb::REJECT_REASON_UNSPECIFIED;
  std::string detail;
  std::uint32_t retry_after_ms = 0;  // rate limited: when to try again
};

std::expected<exchange::SubmitCommand, Refusal> to_submit(const exchange::Venue& venue,
                                                          exchange::AccountId account,
                                                          const pb::SubmitOrderRequest& request,
                                                          std::int64_t now_ns);
std::expected<exchange::CancelCommand, Refusal> to_cancel(exchange::AccountId account,
                                                          const pb::CancelOrderRequest& request,
                                                          std::int64_t now_ns);
std::expected<exchange::ModifyCommand, Refusal> to_modify(exchange::AccountId account,
                                                          const pb::ModifyOrderRequest& request,
                                                          std::int64_t now_ns);

// The refusal of a command the venue or its book rejected; nullopt if it was carried out.
std::optional<Refusal> refusal_of(const exchange::Outcome& outcome);

// The rejection event of a refused request: its client order id (submit) or order id (cancel,
// modify; 0 for a submit, which never got one).
pb::OrderEvent rejected_event(const Refusal& refusal, const std::string& client_order_id,
                              std::uint64_t order_id);

// One order event and the account it belongs to.
struct AccountEvent {
  exchange::AccountId account = 0;
  pb::OrderEvent event;
};

// The order events of a command the venue carried out, each addressed to its order's owner: a
// fill becomes two, the taker's and the maker's. Call right after the command ran (it reads the
// orders' client ids from the venue).
std::vector<AccountEvent> order_events(const exchange::Venue& venue,
                                       const exchange::Outcome& outcome, std::int64_t now_ns);

// One market data message and the symbol it is about.
struct SymbolMarketData {
  exchange::SymbolIndex symbol = 0;
  pb::MarketDataEvent event;
};

// The market data of a command: a BookDelta per level change and a Trade per fill, in order.
std::vector<SymbolMarketData> market_data(const exchange::Venue& venue,
                                          const exchange::Outcome& outcome, std::int64_t now_ns);

// Telemetry of a carried-out command: with `orders`, an OrderEvent per order change (accepted,
// cancelled, modified, triggered); with `trades`, a TradeEvent per trade.
std::vector<market::telemetry::v1::Event> telemetry_events(
    const exchange::Venue& venue, const exchange::Outcome& outcome,
    const std::vector<exchange::SettledTrade>& trades, bool orders, bool with_trades);
// Telemetry of a refused request.
market::telemetry::v1::Event rejection_telemetry(const exchange::Venue& venue,
                                                 exchange::AccountId account,
                                                 const Refusal& refusal, std::uint64_t order_id);

pb::OrderState order_state(const exchange::Venue& venue, const exchange::OrderInfo& order);
pb::AccountState account_state(const exchange::Venue& venue, exchange::AccountId account);

}  // namespace mkt::exchanged
