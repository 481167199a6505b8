#pragma once
// Blocking clients of an exchange for tests, in process or against a real exchanged: one account's
// unary calls and order session, order builders, a followed L2 book, and the test accounts (alice
// and bob) that the test scenarios list. Every call has a deadline. The including target links
// netmarket_proto, mkt_runtime and Catch2.

#include <grpcpp/grpcpp.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "market/exchange/v1/exchange.grpc.pb.h"
#include "mkt/runtime/channel.h"

namespace mkt::testing::exchange_client {

using namespace std::chrono_literals;
namespace pb = market::exchange::v1;

inline const std::string alice_key = "alice-key-0123456789";
inline const std::string bob_key = "bob-key-0123456789ab";

inline std::string accounts_text() {
  return "# test accounts\nalice " + alice_key + "\nbob " + bob_key + "\n";
}

// A blocking client of one account (or of none, with an empty key).
class Client {
 public:
  Client(const std::string& address, std::string key)
      : stub_(pb::Exchange::NewStub(runtime::make_channel(address, {"tester", "", 4 << 20}))),
        key_(std::move(key)) {}

  void prepare(grpc::ClientContext& context, std::chrono::milliseconds timeout = 5s) const {
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    if (!key_.empty()) context.AddMetadata("x-api-key", key_);
  }

  grpc::Status submit(const pb::SubmitOrderRequest& request, pb::OrderResponse& response) const {
    grpc::ClientContext context;
    prepare(context);
    return stub_->SubmitOrder(&context, request, &response);
  }
  grpc::Status cancel(std::uint64_t order_id, pb::OrderResponse& response) const {
    grpc::ClientContext context;
    prepare(context);
    pb::CancelOrderRequest request;
    request.set_order_id(order_id);
    return stub_->CancelOrder(&context, request, &response);
  }
  grpc::Status modify(std::uint64_t order_id, std::int64_t price, std::int64_t quantity,
                      pb::OrderResponse& response) const {
    grpc::ClientContext context;
    prepare(context);
    pb::ModifyOrderRequest request;
    request.set_order_id(order_id);
    request.set_new_price_ticks(price);
    request.set_new_quantity_lots(quantity);
    return stub_->ModifyOrder(&context, request, &response);
  }
  grpc::Status get_order(std::uint64_t order_id, pb::OrderState& state) const {
    grpc::ClientContext context;
    prepare(context);
    pb::GetOrderRequest request;
    request.set_order_id(order_id);
    return stub_->GetOrder(&context, request, &state);
  }
  grpc::Status account(pb::AccountState& state) const {
    grpc::ClientContext context;
    prepare(context);
    return stub_->GetAccount(&context, pb::GetAccountRequest{}, &state);
  }
  pb::Exchange::Stub& stub() { return *stub_; }

 private:
  std::unique_ptr<pb::Exchange::Stub> stub_;
  std::string key_;
};

// A blocking order session of a client: requests go one per message (or several in one with
// send_batch), and next() hands out the events one by one, however the exchange batched them.
class BlockingSession {
 public:
  explicit BlockingSession(Client& client, std::chrono::milliseconds timeout = 10s) {
    client.prepare(context_, timeout);
    stream_ = client.stub().OrderSession(&context_);
  }
  bool send(pb::SessionRequest request) {
    pb::SessionRequests message;
    *message.add_requests() = std::move(request);
    return stream_->Write(message);
  }
  bool send_batch(const pb::SessionRequests& requests) { return stream_->Write(requests); }
  // The next event; false once the stream has ended.
  bool read(pb::SessionEvent& event) {
    while (next_ == batch_.events_size()) {
      if (!stream_->Read(&batch_)) return false;
      next_ = 0;
    }
    event = batch_.events(next_++);
    return true;
  }
  pb::SessionEvent next() {
    pb::SessionEvent event;
    REQUIRE(read(event));
    return event;
  }
  // The header of the message the last event came in.
  const market::common::v1::Header& header() const { return batch_.header(); }
  grpc::ClientReaderWriter<pb::SessionRequests, pb::SessionEvents>& stream() { return *stream_; }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::SessionRequests, pb::SessionEvents>> stream_;
  pb::SessionEvents batch_;
  int next_ = 0;
};

inline pb::SubmitOrderRequest limit(const std::string& symbol, market::common::v1::Side side,
                                    std::int64_t price, std::int64_t quantity,
                                    const std::string& client_id = "") {
  pb::SubmitOrderRequest request;
  request.set_symbol(symbol);
  request.set_side(side);
  request.set_type(pb::ORDER_TYPE_LIMIT);
  request.set_price_ticks(price);
  request.set_quantity_lots(quantity);
  request.set_client_order_id(client_id);
  return request;
}

inline constexpr auto buy = market::common::v1::SIDE_BUY;
inline constexpr auto sell = market::common::v1::SIDE_SELL;

using Levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

inline Levels levels_of(
    const google::protobuf::RepeatedPtrField<market::common::v1::Level>& levels) {
  Levels out;
  for (const auto& level : levels) out.emplace_back(level.price_ticks(), level.quantity_lots());
  return out;
}

// A client's L2 book kept from a snapshot and deltas, checking that no sequence number is
// skipped.
struct FollowedBook {
  std::uint64_t seq = 0;
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  int trades = 0;
  bool gap = false;

  void apply(const pb::MarketDataEvent& event) {
    if (event.has_snapshot()) {
      seq = event.snapshot().seq();
      bids.clear();
      asks.clear();
      for (const auto& l : event.snapshot().bids()) bids[l.price_ticks()] = l.quantity_lots();
      for (const auto& l : event.snapshot().asks()) asks[l.price_ticks()] = l.quantity_lots();
      return;
    }
    const std::uint64_t next = event.has_delta() ? event.delta().seq() : event.trade().seq();
    if (next != seq + 1) gap = true;
    seq = next;
    if (event.has_trade()) {
      ++trades;
      return;
    }
    const auto& level = event.delta().level();
    auto set = [&](auto& side) {
      if (level.quantity_lots() == 0) {
        side.erase(level.price_ticks());
      } else {
        side[level.price_ticks()] = level.quantity_lots();
      }
    };
    if (event.delta().side() == buy) {
      set(bids);
    } else {
      set(asks);
    }
  }
  Levels bid_levels() const { return {bids.begin(), bids.end()}; }
  Levels ask_levels() const { return {asks.begin(), asks.end()}; }
};

inline pb::MarketDataEvent snapshot_of(Client& client, const std::string& symbol) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  pb::MarketDataRequest request;
  request.add_symbols(symbol);
  auto reader = client.stub().StreamMarketData(&context, request);
  pb::MarketDataEvent event;
  REQUIRE(reader->Read(&event));
  context.TryCancel();
  return event;
}

inline std::uint64_t accepted_id(const pb::OrderResponse& response) {
  REQUIRE(response.events_size() > 0);
  REQUIRE(response.events(0).has_accepted());
  return response.events(0).accepted().order_id();
}

}  // namespace mkt::testing::exchange_client
