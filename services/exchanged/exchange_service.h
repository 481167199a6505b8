#pragma once
// The Exchange gRPC service over one venue and its journal.
//
// Everything that touches the venue runs on one strand. A request becomes a venue command; a
// command that changed the venue is appended to the journal, and what it caused (the answer, the
// events to every session of the accounts concerned, market data) is released only once the
// journal has it on disk. A rejected request changes nothing and is not journalled, but its answer
// waits behind the records before it, so answers leave in the order the venue decided them and
// never speak of state that a crash could still lose. Market data snapshots come from the
// published book (the state of the released changes), so a snapshot's seq and the deltas after it
// always fit.

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "convert.h"
#include "journal_file.h"
#include "market/exchange/v1/exchange.grpc.pb.h"
#include "mkt/exchange/level_book.h"
#include "mkt/exchange/rate_limit.h"
#include "mkt/exchange/settlement.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/stream.h"
#include "mkt/runtime/telemetry.h"
#include "mkt/runtime/unary.h"

namespace mkt::exchanged {

struct ServiceOptions {
  std::unordered_map<std::string, exchange::AccountId> account_by_key;
  pb::ListSymbolsResponse symbols;
  // A session's events are batches: what queues while a message is written goes out together.
  runtime::StreamOptions session_stream{.coalesce_bytes = 64 << 10};
  runtime::StreamOptions market_data_stream;
  // Called on the strand after a command made trades (which are in the settlement by then).
  std::function<void()> on_trades;
  // Where order and trade events go as telemetry (on the same strand); none: nowhere.
  runtime::TelemetryService* telemetry = nullptr;
  // The times orders are stamped with, and acks are measured by.
  const runtime::Clock* clock = &runtime::system_clock();
  // Order entry per account, a token bucket (exchange/rate_limit.h); 0 a second: no limit.
  std::uint32_t orders_per_second = 0;
  std::uint32_t order_burst = 1;
  // With a settlement: at this many trades the ledger has not acknowledged, new orders and
  // modifies are refused (SETTLEMENT_BACKLOG) until it catches up; cancels go through. 0: no bound.
  std::size_t unsettled_trades_max = 0;
};

class ExchangeService final : public pb::Exchange::CallbackService {
 public:
  // The venue, settlement and journal belong to `strand`; they and the registry must outlive the
  // service. Without a settlement (no ledger), trades are not kept for reporting.
  ExchangeService(ServiceOptions options, exchange::Venue& venue, exchange::Settlement* settlement,
                  JournalFile& journal, runtime::Serial strand, metrics::Registry& metrics);
  ~ExchangeService() override;

  grpc::ServerUnaryReactor* ListSymbols(grpc::CallbackServerContext* context,
                                        const pb::ListSymbolsRequest* request,
                                        pb::ListSymbolsResponse* response) override;
  grpc::ServerUnaryReactor* SubmitOrder(grpc::CallbackServerContext* context,
                                        const pb::SubmitOrderRequest* request,
                                        pb::OrderResponse* response) override;
  grpc::ServerUnaryReactor* CancelOrder(grpc::CallbackServerContext* context,
                                        const pb::CancelOrderRequest* request,
                                        pb::OrderResponse* response) override;
  grpc::ServerUnaryReactor* ModifyOrder(grpc::CallbackServerContext* context,
                                        const pb::ModifyOrderRequest* request,
                                        pb::OrderResponse* response) override;
  grpc::ServerUnaryReactor* GetOrder(grpc::CallbackServerContext* context,
                                     const pb::GetOrderRequest* request,
                                     pb::OrderState* response) override;
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const pb::GetAccountRequest* request,
                                       pb::AccountState* response) override;
  grpc::ServerBidiReactor<pb::SessionRequests, pb::SessionEvents>* OrderSession(
      grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<pb::MarketDataEvent>* StreamMarketData(
      grpc::CallbackServerContext* context, const pb::MarketDataRequest* request) override;

  // On the strand: ends every stream with UNAVAILABLE (the venue is shutting down).
  void close_streams();

 private:
  struct Session;
  struct Subscriber;
  struct Released;
  using OrderResponder = runtime::Responder<pb::OrderResponse>;
  // Where the answer of one request goes: a session (with the client's request id) or a unary call.
  struct Origin {
    exchange::AccountId account = 0;
    std::shared_ptr<Session> session;
    std::uint64_t request_id = 0;
    std::shared_ptr<OrderResponder> responder;
    std::int64_t started_ns = 0;  // steady clock, when the strand took the request
  };
  // The service's metrics (see the constructor for names).
  struct Metrics {
    metrics::Counter* commands[3];  // submit, cancel, modify
    metrics::Histogram* ack_latency;
    metrics::Gauge* sessions;
    metrics::Gauge* subscribers;
    std::vector<metrics::Counter*> trades;  // per symbol
    std::vector<metrics::Counter*> traded_lots;
    std::vector<metrics::Gauge*> levels[2];   // per side, per symbol
    std::vector<metrics::Gauge*> best[2];     // per side, per symbol
    std::vector<metrics::Gauge*> last_price;  // per symbol
    // By reject reason, made when first counted (a flood of rate-limited requests refuses each).
    std::vector<metrics::Counter*> rejections;
  };

  // The calling account, from the x-api-key metadata; nullptr-safe on any thread (the key map
  // does not change after construction).
  // The account whose API key the call carries, if its TLS peer (when any) may act for it.
  std::expected<exchange::AccountId, grpc::Status> authenticate(
      grpc::CallbackServerContext* context) const;

  template <class Request>
  grpc::ServerUnaryReactor* order_call(grpc::CallbackServerContext* context, const Request* request,
                                       pb::OrderResponse* response);
  void execute_request(Origin origin, const pb::SubmitOrderRequest& request);
  void execute_request(Origin origin, const pb::CancelOrderRequest& request);
  void execute_request(Origin origin, const pb::ModifyOrderRequest& request);
  template <class Response>
  void answer_when_durable(runtime::Responder<Response> responder, grpc::Status status,
                           Response response);
  void on_session_request(const std::shared_ptr<Session>& session,
                          const pb::SessionRequest& request);
  // On the strand: runs one command (or reports why there is none) and releases what it caused.
  void execute(Origin origin, std::expected<exchange::Command, Refusal> command,
               const std::string& client_order_id, std::uint64_t order_id);
  void refuse(const Origin& origin, const Refusal& refusal, const std::string& client_order_id,
              std::uint64_t order_id);
  void release(const Origin& origin, Released& released);
  void send_to_session(Session& session, std::uint64_t request_id, const pb::OrderEvent& event);
  void publish(exchange::SymbolIndex symbol, pb::MarketDataEvent event);
  // One side's book gauges of a symbol (levels, best price) from what has been published.
  void refresh_book_gauges(exchange::SymbolIndex symbol, matching::Side side);
  void count_rejection(pb::RejectReason reason);
  // The refusal of an order or modify while the ledger is behind by unsettled_trades_max trades.
  std::optional<Refusal> settlement_backlog(const exchange::Command& command) const;
  // When a client refused for the backlog may try again: about a batch round trip.
  static constexpr std::uint32_t backlog_retry_ms = 100;
  void subscribe(const std::shared_ptr<runtime::Stream<pb::MarketDataEvent>>& stream,
                 const pb::MarketDataRequest& request, std::list<Subscriber>::iterator& where);

  ServiceOptions options_;
  exchange::Venue& venue_;
  exchange::Settlement* settlement_;
  JournalFile& journal_;
  runtime::Serial strand_;
  // All below on the strand.
  std::unordered_map<exchange::AccountId, std::vector<std::shared_ptr<Session>>> sessions_;
  std::list<Subscriber> subscribers_;
  std::vector<exchange::LevelBook> published_;
  std::vector<std::uint64_t> published_seq_;
  std::vector<matching::Price> published_last_trade_;
  metrics::Registry& registry_;
  exchange::RateLimiter limiter_;
  Metrics metrics_;
};

}  // namespace mkt::exchanged
