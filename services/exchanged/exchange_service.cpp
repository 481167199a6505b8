#include "exchange_service.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <chrono>

#include "mkt/runtime/clock.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"

namespace mkt::exchanged {

using exchange::AccountId;
using exchange::Command;

namespace {

const grpc::Status& unauthenticated() {
  static const grpc::Status status(grpc::StatusCode::UNAUTHENTICATED,
                                   "missing or unknown API key (metadata x-api-key)");
  return status;
}

}  // namespace

struct ExchangeService::Session {
  AccountId account = 0;
  std::shared_ptr<runtime::Stream<pb::SessionEvents>> stream;
  std::uint64_t next_seq = 1;
};

struct ExchangeService::Subscriber {
  std::shared_ptr<runtime::Stream<pb::MarketDataEvent>> stream;
  std::vector<bool> wants;  // per symbol
};

// What a carried-out command caused, converted while the venue still held the state it speaks of.
struct ExchangeService::Released {
  std::vector<AccountEvent> order_events;
  std::vector<SymbolMarketData> market_data;
  std::vector<market::telemetry::v1::Event> telemetry;
};

ExchangeService::ExchangeService(ServiceOptions options, exchange::Venue& venue,
                                 exchange::Settlement* settlement, JournalFile& journal,
                                 runtime::Serial strand, metrics::Registry& registry)
    : options_(std::move(options)),
      venue_(venue),
      settlement_(settlement),
      journal_(journal),
      strand_(std::move(strand)),
      registry_(registry),
      limiter_(options_.orders_per_second, options_.order_burst) {
  const char* kinds[] = {"submit", "cancel", "modify"};
  // The venue's history (trades, commands) counts from the journal's start, so a restart goes on
  // from what the journal replayed; the other counters are this process's own.
  const exchange::Venue::History& history = venue_.history();
  for (std::size_t k = 0; k < 3; ++k) {
    metrics_.commands[k] = &registry.counter(
        "exchange_commands_total",
        "Commands carried out and journalled (submits accepted, cancels, modifies) since the "
        "journal began.",
        {{"kind", kinds[k]}});
    metrics_.commands[k]->add(history.commands[k]);
  }
  metrics_.ack_latency = &registry.histogram(
      "exchange_ack_latency_seconds",
      "From the venue taking a request to its answer leaving, journal write included.",
      metrics::exponential_bounds(1000, 2, 1'000'000'000), 1e9);
  metrics_.sessions = &registry.gauge("exchange_order_sessions", "Open order sessions.");
  metrics_.subscribers =
      &registry.gauge("exchange_market_data_subscribers", "Open market data streams.");
  for (exchange::SymbolIndex s = 0; s < venue_.config().symbols.size(); ++s) {
    const auto& symbol = venue_.config().symbols[s];
    metrics_.trades.push_back(&registry.counter(
        "exchange_trades_total", "Trades since the journal began.", {{"symbol", symbol.name}}));
    metrics_.trades.back()->add(history.trades[s]);
    metrics_.traded_lots.push_back(&registry.counter(
        "exchange_traded_lots_total", "Quantity traded since the journal began, in lots.",
        {{"symbol", symbol.name}}));
    metrics_.traded_lots.back()->add(history.traded_lots[s]);
    for (int side = 0; side < 2; ++side) {
      const metrics::Labels labels{{"symbol", symbol.name}, {"side", side == 0 ? "buy" : "sell"}};
      metrics_.levels[side].push_back(
          &registry.gauge("exchange_book_levels", "Price levels in the published book.", labels));
      metrics_.best[side].push_back(&registry.gauge(
          "exchange_best_price_ticks",
          "The best published price of a side, in ticks; 0 while the side is empty.", labels));
    }
    metrics_.last_price.push_back(&registry.gauge("exchange_last_price_ticks",
                                                  "The last trade's price, in ticks; 0 before one.",
                                                  {{"symbol", symbol.name}}));
  }
  // What the journal replayed is durable: it is the first published state.
  const std::size_t symbols = venue_.config().symbols.size();
  published_.resize(symbols);
  for (exchange::SymbolIndex s = 0; s < symbols; ++s) {
    for (matching::Side side : {matching::Side::buy, matching::Side::sell}) {
      for (const matching::LevelView& level : venue_.book(s).levels(side)) {
        published_[s].set(side, level.price, level.quantity, level.orders);
      }
    }
    published_seq_.push_back(venue_.md_seq(s));
    published_last_trade_.push_back(venue_.book(s).last_trade_price());
    for (matching::Side side : {matching::Side::buy, matching::Side::sell}) {
      refresh_book_gauges(s, side);
    }
    metrics_.last_price[s]->set(published_last_trade_[s]);
  }
}

void ExchangeService::refresh_book_gauges(exchange::SymbolIndex symbol, matching::Side side) {
  const int i = side == matching::Side::buy ? 0 : 1;
  metrics_.levels[i][symbol]->set(static_cast<std::int64_t>(published_[symbol].level_count(side)));
  metrics_.best[i][symbol]->set(published_[symbol].best(side).value_or(0));
}

ExchangeService::~ExchangeService() = default;

std::expected<AccountId, grpc::Status> ExchangeService::authenticate(
    grpc::CallbackServerContext* context) const {
  const auto found =
      options_.account_by_key.find(runtime::client_metadata(*context, runtime::api_key_metadata));
  if (found == options_.account_by_key.end()) return std::unexpected(unauthenticated());
  // With TLS, the key's own agent or the operator (marketctl order --account) calls.
  const std::string& name = venue_.config().accounts[found->second].id;
  if (const auto peer = runtime::peer_node_id(*context);
      peer && *peer != name && *peer != runtime::operator_account) {
    return std::unexpected(runtime::peer_refused(
        *peer, "'" + name + "', whose key the call carries, or the operator"));
  }
  return found->second;
}
grpc::ServerUnaryReactor* ExchangeService::ListSymbols(grpc::CallbackServerContext* context,
                                                       const pb::ListSymbolsRequest*,
                                                       pb::ListSymbolsResponse* response) {
  *response = options_.symbols;  // immutable: answered on gRPC's thread
  return runtime::answer_now(context, grpc::Status::OK);
}

void ExchangeService::execute_request(Origin origin, const pb::SubmitOrderRequest& request) {
  const AccountId account = origin.account;
  execute(std::move(origin), to_submit(venue_, account, request, options_.clock->wall_ns()),
          request.client_order_id(), 0);
}

void ExchangeService::execute_request(Origin origin, const pb::CancelOrderRequest& request) {
  const AccountId account = origin.account;
  execute(std::move(origin), to_cancel(account, request, options_.clock->wall_ns()), {},
          request.order_id());
}

void ExchangeService::execute_request(Origin origin, const pb::ModifyOrderRequest& request) {
  const AccountId account = origin.account;
  execute(std::move(origin), to_modify(account, request, options_.clock->wall_ns()), {},
          request.order_id());
}

template <class Request>
grpc::ServerUnaryReactor* ExchangeService::order_call(grpc::CallbackServerContext* context,
                                                      const Request* request,
                                                      pb::OrderResponse* response) {
  const auto account = authenticate(context);
  if (!account) return runtime::answer_now(context, account.error());
  return runtime::serve_on(
      strand_, context, request, response,
      [this, account = *account](const Request& r, OrderResponder responder) {
        execute_request(
            {account, nullptr, 0, std::make_shared<OrderResponder>(std::move(responder))}, r);
      });
}

grpc::ServerUnaryReactor* ExchangeService::SubmitOrder(grpc::CallbackServerContext* context,
                                                       const pb::SubmitOrderRequest* request,
                                                       pb::OrderResponse* response) {
  return order_call(context, request, response);
}

grpc::ServerUnaryReactor* ExchangeService::CancelOrder(grpc::CallbackServerContext* context,
                                                       const pb::CancelOrderRequest* request,
                                                       pb::OrderResponse* response) {
  return order_call(context, request, response);
}

grpc::ServerUnaryReactor* ExchangeService::ModifyOrder(grpc::CallbackServerContext* context,
                                                       const pb::ModifyOrderRequest* request,
                                                       pb::OrderResponse* response) {
  return order_call(context, request, response);
}

// The state as of now, told once everything it includes is on disk.
template <class Response>
void ExchangeService::answer_when_durable(runtime::Responder<Response> responder,
                                          grpc::Status status, Response response) {
  journal_.after_pending(
      [status = std::move(status), response = std::move(response),
       responder = std::make_shared<runtime::Responder<Response>>(std::move(responder))]() mutable {
        responder->finish(status, std::move(response));
      });
}

grpc::ServerUnaryReactor* ExchangeService::GetOrder(grpc::CallbackServerContext* context,
                                                    const pb::GetOrderRequest* request,
                                                    pb::OrderState* response) {
  const auto account = authenticate(context);
  if (!account) return runtime::answer_now(context, account.error());
  using Responder = runtime::Responder<pb::OrderState>;
  return runtime::serve_on(
      strand_, context, request, response,
      [this, account = *account](const pb::GetOrderRequest& r, Responder responder) {
        grpc::Status status;
        pb::OrderState state;
        const exchange::OrderInfo* order = venue_.order(r.order_id());
        if (order == nullptr) {
          status =
              grpc::Status(grpc::StatusCode::NOT_FOUND,
                           fmt::format("order {} is unknown (or finished long ago)", r.order_id()));
        } else if (order->account != account) {
          status = grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                fmt::format("order {} belongs to another account", r.order_id()));
        } else {
          state = order_state(venue_, *order);
        }
        answer_when_durable(std::move(responder), std::move(status), std::move(state));
      });
}

grpc::ServerUnaryReactor* ExchangeService::GetAccount(grpc::CallbackServerContext* context,
                                                      const pb::GetAccountRequest* request,
                                                      pb::AccountState* response) {
  const auto account = authenticate(context);
  if (!account) return runtime::answer_now(context, account.error());
  using Responder = runtime::Responder<pb::AccountState>;
  return runtime::serve_on(
      strand_, context, request, response,
      [this, account = *account](const pb::GetAccountRequest&, Responder responder) {
        answer_when_durable(std::move(responder), grpc::Status::OK, account_state(venue_, account));
      });
}

grpc::ServerBidiReactor<pb::SessionRequests, pb::SessionEvents>* ExchangeService::OrderSession(
    grpc::CallbackServerContext* context) {
  const auto account = authenticate(context);
  if (!account) {
    return runtime::refuse_bidi<pb::SessionRequests, pb::SessionEvents>(account.error());
  }
  auto session = std::make_shared<Session>();
  session->account = *account;
  using Stream = runtime::Stream<pb::SessionEvents>;
  return runtime::serve_bidi_on<pb::SessionRequests, pb::SessionEvents>(
      strand_, options_.session_stream,
      [this, session](std::shared_ptr<Stream> stream) {
        session->stream = std::move(stream);
        sessions_[session->account].push_back(session);
        metrics_.sessions->add(1);
      },
      [this, session](Stream&, const pb::SessionRequests& requests) {
        for (const pb::SessionRequest& request : requests.requests()) {
          on_session_request(session, request);
        }
      },
      [this, session](Stream&) {
        // The client has sent everything: end once its last answers are out.
        journal_.after_pending([session] { session->stream->finish(grpc::Status::OK); });
      },
      [this, session] {
        auto& list = sessions_[session->account];
        std::erase(list, session);
        if (list.empty()) sessions_.erase(session->account);
        metrics_.sessions->add(-1);
      });
}

void ExchangeService::on_session_request(const std::shared_ptr<Session>& session,
                                         const pb::SessionRequest& request) {
  Origin origin{session->account, session, request.request_id(), nullptr};
  switch (request.request_case()) {
    case pb::SessionRequest::kSubmit:
      execute_request(std::move(origin), request.submit());
      return;
    case pb::SessionRequest::kCancel:
      execute_request(std::move(origin), request.cancel());
      return;
    case pb::SessionRequest::kModify:
      execute_request(std::move(origin), request.modify());
      return;
    case pb::SessionRequest::REQUEST_NOT_SET:
      break;
  }
  execute(
      std::move(origin),
      std::unexpected(Refusal{grpc::StatusCode::INVALID_ARGUMENT, pb::REJECT_REASON_INVALID_ORDER,
                              "the request has no submit, cancel or modify"}),
      {}, 0);
}

void ExchangeService::execute(Origin origin, std::expected<Command, Refusal> command,
                              const std::string& client_order_id, std::uint64_t order_id) {
  origin.started_ns = options_.clock->steady_ns();
  if (const std::int64_t wait_ns = limiter_.take(origin.account, origin.started_ns)) {
    const auto retry_ms = static_cast<std::uint32_t>((wait_ns + 999'999) / 1'000'000);
    refuse(origin,
           Refusal{grpc::StatusCode::RESOURCE_EXHAUSTED, pb::REJECT_REASON_RATE_LIMITED,
                   fmt::format("account {} may send {} orders, cancels and modifies a second "
                               "(bursts of {}); retry in {} ms",
                               venue_.account(origin.account).id, limiter_.per_second(),
                               limiter_.burst(), retry_ms),
                   retry_ms},
           client_order_id, order_id);
    return;
  }
  if (!command) {
    refuse(origin, command.error(), client_order_id, order_id);
    return;
  }
  if (auto backlog = settlement_backlog(*command)) {
    refuse(origin, *backlog, client_order_id, order_id);
    return;
  }
  const exchange::Outcome outcome = exchange::run_command(venue_, *command);
  if (auto refusal = refusal_of(outcome)) {
    refuse(origin, *refusal, client_order_id, order_id);
    return;
  }
  const std::int64_t now = exchange::time_of(*command);
  auto released = std::make_shared<Released>(
      Released{order_events(venue_, outcome, now), market_data(venue_, outcome, now), {}});
  const auto trades = exchange::trades_of(venue_, outcome, now);
  if (auto* telemetry = options_.telemetry) {
    const bool orders = telemetry->wants(market::telemetry::v1::Event::kOrder);
    const bool with_trades = telemetry->wants(market::telemetry::v1::Event::kTrade);
    if (orders || with_trades) {
      released->telemetry = telemetry_events(venue_, outcome, trades, orders, with_trades);
    }
  }
  metrics_.commands[command->index()]->add();
  journal_.append(*command,
                  [this, origin = std::move(origin), released] { release(origin, *released); });
  if (settlement_ != nullptr && !trades.empty()) {
    for (const exchange::SettledTrade& trade : trades) settlement_->add(trade);
    if (options_.on_trades) options_.on_trades();
  }
}

void ExchangeService::refuse(const Origin& origin, const Refusal& refusal,
                             const std::string& client_order_id, std::uint64_t order_id) {
  count_rejection(refusal.reason);
  std::optional<market::telemetry::v1::Event> telemetry;
  if (options_.telemetry != nullptr &&
      options_.telemetry->wants(market::telemetry::v1::Event::kOrder)) {
    telemetry = rejection_telemetry(venue_, origin.account, refusal, order_id);
  }
  journal_.after_pending([this, origin, refusal, client_order_id, order_id,
                          telemetry = std::move(telemetry)]() mutable {
    metrics_.ack_latency->observe(options_.clock->steady_ns() - origin.started_ns);
    if (telemetry) options_.telemetry->publish(std::move(*telemetry));
    if (origin.responder && refusal.code != grpc::StatusCode::OK) {
      runtime::Metadata trailing;
      if (refusal.retry_after_ms > 0) {
        trailing.emplace_back("x-retry-after-ms", std::to_string(refusal.retry_after_ms));
      }
      origin.responder->finish(grpc::Status(refusal.code, refusal.detail), {}, trailing);
      return;
    }
    const pb::OrderEvent event = rejected_event(refusal, client_order_id, order_id);
    if (origin.responder) {
      pb::OrderResponse response;
      *response.add_events() = event;
      origin.responder->finish(grpc::Status::OK, std::move(response));
    } else if (origin.session->stream->open()) {
      send_to_session(*origin.session, origin.request_id, event);
    }
  });
}

void ExchangeService::release(const Origin& origin, Released& released) {
  metrics_.ack_latency->observe(options_.clock->steady_ns() - origin.started_ns);
  for (SymbolMarketData& item : released.market_data) publish(item.symbol, std::move(item.event));
  for (auto& event : released.telemetry) options_.telemetry->publish(std::move(event));
  pb::OrderResponse response;
  for (AccountEvent& item : released.order_events) {
    const auto it = sessions_.find(item.account);
    if (it != sessions_.end()) {
      for (const auto& session : it->second) {
        send_to_session(*session, session == origin.session ? origin.request_id : 0, item.event);
      }
    }
    if (origin.responder && item.account == origin.account) {
      *response.add_events() = std::move(item.event);
    }
  }
  if (origin.responder) origin.responder->finish(grpc::Status::OK, std::move(response));
}

void ExchangeService::send_to_session(Session& session, std::uint64_t request_id,
                                      const pb::OrderEvent& event) {
  // One event per message; the stream merges those that queue up (ServiceOptions::session_stream).
  auto message = std::make_shared<pb::SessionEvents>();
  runtime::stamp(*message->mutable_header(), venue_.config().exchange_id);
  pb::SessionEvent& item = *message->add_events();
  item.set_session_seq(session.next_seq++);
  item.set_request_id(request_id);
  *item.mutable_event() = event;
  session.stream->send(std::move(message));
}

void ExchangeService::publish(exchange::SymbolIndex symbol, pb::MarketDataEvent event) {
  if (event.has_delta()) {
    const auto& delta = event.delta();
    const bool buy = delta.side() == market::common::v1::SIDE_BUY;
    const matching::Side side = buy ? matching::Side::buy : matching::Side::sell;
    published_[symbol].set(side, delta.level().price_ticks(), delta.level().quantity_lots(),
                           delta.level().order_count());
    published_seq_[symbol] = delta.seq();
    refresh_book_gauges(symbol, side);
  } else {
    published_last_trade_[symbol] = event.trade().price_ticks();
    published_seq_[symbol] = event.trade().seq();
    metrics_.trades[symbol]->add();
    metrics_.traded_lots[symbol]->add(static_cast<std::uint64_t>(event.trade().quantity_lots()));
    metrics_.last_price[symbol]->set(event.trade().price_ticks());
  }
  if (subscribers_.empty()) return;
  auto message = std::make_shared<pb::MarketDataEvent>(std::move(event));
  runtime::stamp(*message->mutable_header(), venue_.config().exchange_id);
  for (const Subscriber& subscriber : subscribers_) {
    if (subscriber.wants[symbol]) subscriber.stream->send(message);
  }
}

grpc::ServerWriteReactor<pb::MarketDataEvent>* ExchangeService::StreamMarketData(
    grpc::CallbackServerContext*, const pb::MarketDataRequest* request) {
  // Public: no API key needed. The subscriber's place in the list, set on open, erased on close.
  auto where = std::make_shared<std::list<Subscriber>::iterator>(subscribers_.end());
  using Stream = runtime::Stream<pb::MarketDataEvent>;
  return runtime::serve_stream_on<pb::MarketDataEvent>(
      strand_, options_.market_data_stream,
      [this, where, request = *request](std::shared_ptr<Stream> stream) {
        subscribe(stream, request, *where);
      },
      [this, where] {
        if (*where != subscribers_.end()) {
          subscribers_.erase(*where);
          metrics_.subscribers->add(-1);
        }
      });
}

void ExchangeService::subscribe(const std::shared_ptr<runtime::Stream<pb::MarketDataEvent>>& stream,
                                const pb::MarketDataRequest& request,
                                std::list<Subscriber>::iterator& where) {
  std::vector<bool> wants(published_.size(), request.symbols().empty());
  for (const std::string& name : request.symbols()) {
    const auto symbol = venue_.symbol_index(name);
    if (!symbol) {
      stream->finish(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          fmt::format("symbol '{}' is not listed on {}", name, venue_.config().exchange_id)));
      return;
    }
    wants[*symbol] = true;
  }
  for (exchange::SymbolIndex s = 0; s < published_.size(); ++s) {
    if (!wants[s]) continue;
    auto message = std::make_shared<pb::MarketDataEvent>();
    runtime::stamp(*message->mutable_header(), venue_.config().exchange_id);
    auto& snapshot = *message->mutable_snapshot();
    snapshot.set_symbol(venue_.config().symbols[s].name);
    snapshot.set_seq(published_seq_[s]);
    snapshot.set_last_trade_price_ticks(published_last_trade_[s]);
    for (matching::Side side : {matching::Side::buy, matching::Side::sell}) {
      auto* levels =
          side == matching::Side::buy ? snapshot.mutable_bids() : snapshot.mutable_asks();
      for (const matching::LevelView& level : published_[s].levels(side, request.depth())) {
        auto& out = *levels->Add();
        out.set_price_ticks(level.price);
        out.set_quantity_lots(level.quantity);
        out.set_order_count(level.orders);
      }
    }
    stream->send(std::move(message));
  }
  where = subscribers_.insert(subscribers_.end(), Subscriber{stream, std::move(wants)});
  metrics_.subscribers->add(1);
}

std::optional<Refusal> ExchangeService::settlement_backlog(const exchange::Command& command) const {
  const std::size_t bound = options_.unsettled_trades_max;
  if (settlement_ == nullptr || bound == 0 ||
      std::holds_alternative<exchange::CancelCommand>(command)) {
    return std::nullopt;  // a cancel makes no trade: it always goes through
  }
  const std::size_t unsettled = settlement_->unsettled_trades();
  if (unsettled < bound) return std::nullopt;
  return Refusal{grpc::StatusCode::UNAVAILABLE, pb::REJECT_REASON_SETTLEMENT_BACKLOG,
                 fmt::format("{} trades wait for the ledger (at most {} may): new orders wait "
                             "until settlement catches up; cancels go through",
                             unsettled, bound),
                 backlog_retry_ms};
}

void ExchangeService::count_rejection(pb::RejectReason reason) {
  auto& counters = metrics_.rejections;
  const auto at = static_cast<std::size_t>(reason);
  if (at >= counters.size()) counters.resize(at + 1, nullptr);
  if (counters[at] == nullptr) {
    counters[at] = &registry_.counter("exchange_rejections_total",
                                      "Requests refused since this process started, by reason.",
                                      {{"reason", pb::RejectReason_Name(reason)}});
  }
  counters[at]->add();
}

void ExchangeService::close_streams() {
  const grpc::Status closing(grpc::StatusCode::UNAVAILABLE, "the venue is shutting down");
  for (const auto& [account, list] : sessions_) {
    for (const auto& session : list) session->stream->finish(closing);
  }
  for (const Subscriber& subscriber : subscribers_) subscriber.stream->finish(closing);
}

}  // namespace mkt::exchanged
