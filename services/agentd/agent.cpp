#include "agent.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <utility>

#include "market/exchange/v1/exchange.grpc.pb.h"
#include "mkt/agents/strategies.h"
#include "mkt/core/hash.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/client_stream.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/telemetry.h"
#include "mkt/runtime/unary.h"
#include "mkt/wire/exchange.h"
#include "peer_parts.h"

namespace mkt::agentd {
namespace {

namespace pb = market::exchange::v1;
using common = market::common::v1::Side;
using namespace std::chrono_literals;

constexpr auto retry_first = 100ms;
constexpr auto retry_max = 2s;
// Cancel requests carry the order's own id with this bit set, to tell their answers apart.
constexpr std::uint64_t cancel_bit = std::uint64_t{1} << 63;

}  // namespace

struct Agent::Venue {
  Venue(std::string id_, std::string address_, Strand& strand)
      : id(std::move(id_)),
        address(std::move(address_)),
        market_retry(strand),
        session_retry(strand),
        leftovers_retry(strand) {}

  std::string id;
  std::string address;
  std::unique_ptr<pb::Exchange::Stub> stub;
  std::vector<std::string> symbols;
  std::shared_ptr<runtime::ClientCall<pb::MarketDataRequest>> market_data;
  std::shared_ptr<runtime::ClientCall<pb::SessionRequests>> session;
  boost::asio::steady_timer market_retry;
  boost::asio::steady_timer session_retry;
  boost::asio::steady_timer leftovers_retry;
  std::chrono::milliseconds market_backoff = retry_first;
  std::chrono::milliseconds session_backoff = retry_first;
  metrics::Gauge* connected = nullptr;  // 1 from a snapshot to the end of its stream
};

Agent::Agent(AgentOptions options, agents::AgentSetup setup, Strand strand,
             metrics::Registry& registry)
    : options_(std::move(options)),
      trader_(std::move(setup.config), std::move(setup.strategy)),
      strand_(std::move(strand)),
      tick_(strand_),
      gauges_(strand_),
      draws_(core::mix64(trader_.config().seed ^ core::fnv1a64(options_.node_id + "/peers"))),
      sharing_(setup.information_sharing),
      gossip_peers_(std::move(setup.gossip_peers)),
      brokers_(std::move(setup.brokers)),
      broker_(trader_.strategy().broker_terms()),
      adaptive_(dynamic_cast<const agents::AdaptiveTrader*>(&trader_.strategy())),
      coordination_timer_(strand_),
      metrics_{
          .decisions = registry.counter("agent_decisions_total", "Times the strategy decided."),
          .orders_sent = registry.counter("agent_orders_sent_total", "Orders sent to venues."),
          .orders_unsent = registry.counter("agent_orders_unsent_total",
                                            "Orders dropped because the venue's session was down."),
          .orders_indeterminate = registry.counter(
              "agent_orders_indeterminate_total",
              "Orders sent and never answered before their session broke: the venue may have "
              "them or not."),
          .cancels_sent = registry.counter("agent_cancels_sent_total", "Cancels sent to venues."),
          .fills = registry.counter("agent_fills_total", "Fills of own orders."),
          .rejects =
              registry.counter("agent_rejects_total", "Orders or cancels the venue refused."),
          .book_gaps = registry.counter("agent_book_gaps_total",
                                        "Market data gaps (each followed by a new snapshot)."),
          .reconnects = registry.counter(
              "agent_reconnects_total", "Market data or order sessions opened again after an end."),
          .pnl_cents = registry.gauge(
              "agent_pnl_cents", "Cash plus positions at their mark, minus the starting cash."),
          .cash_cents = registry.gauge("agent_cash_cents", "Cash after own fills."),
          .live_orders = registry.gauge("agent_live_orders", "Orders not yet filled or cancelled."),
          .traded_lots = registry.gauge("agent_traded_lots", "Lots bought and sold so far."),
          .ack_latency = registry.histogram(
              "agent_order_ack_seconds", "From sending an order to its acknowledgement.",
              metrics::exponential_bounds(10'000, 2, 10'000'000'000), 1e9),
          .positions = {},
          .refusals = {},
          .signals_received = {},
          .signals_originated =
              registry.counter("agent_signals_originated_total", "Signals of its own, shared."),
          .signals_forwarded =
              registry.counter("agent_signals_forwarded_total",
                               "Copies of signals queued for peers (own and passed on)."),
          .signals_dropped = registry.counter(
              "agent_signals_dropped_total",
              "Signal copies a peer never took: expired while it was unreachable, or its queue "
              "was full."),
          .signal_sends_failed = registry.counter(
              "agent_signal_sends_failed_total",
              "Signal batches whose send to a peer failed (their live signals are sent again)."),
          .signal_age = registry.histogram(
              "agent_signal_age_seconds", "Age of fresh signals on arrival: now - origin time.",
              metrics::exponential_bounds(100'000, 2, 20'000'000'000), 1e9),
          .signal_hops =
              registry.histogram("agent_signal_hops", "Hops fresh signals had taken on arrival.",
                                 {0, 1, 2, 3, 4, 5, 6, 8, 12, 16}, 1),
          .signals_sold = registry.counter("agent_broker_signals_sold_total",
                                           "Signals a broker passed to a subscriber (each at the "
                                           "scenario's information_value)."),
          .subscribers = registry.gauge("agent_broker_subscribers", "A broker's subscribers now."),
          .coordination = {},
          .adaptive = {},
          .reputation = {}},
      registry_(registry) {
  for (const auto admission :
       {agents::Admission::fresh, agents::Admission::duplicate, agents::Admission::expired,
        agents::Admission::own, agents::Admission::malformed}) {
    metrics_.signals_received[admission] = &registry.counter(
        "agent_signals_received_total", "Signals from peers, by what became of them.",
        {{"admission", std::string(agents::to_string(admission))}});
  }
  if (adaptive_ != nullptr) {
    for (std::size_t arm = 0; arm < adaptive_->arms(); ++arm) {
      const metrics::Labels labels{{"strategy", std::string(adaptive_->arm_name(arm))}};
      metrics_.adaptive.push_back(
          {&registry.gauge("agent_adaptive_episodes", "Episodes each strategy has run.", labels),
           &registry.gauge("agent_adaptive_current", "1 for the strategy running now.", labels)});
    }
  }
  if (const auto* params = trader_.strategy().coordination()) {
    coordination_.emplace(options_.node_id, std::move(setup.coalition), *params,
                          trader_.config().seed);
    for (const auto& [event, count] : coordination_events({})) {
      metrics_.coordination[event] = &registry.gauge(
          "agent_coordination_events", "Coordinated trades, by what happened (see Coordination).",
          {{"event", event}});
    }
  }
  for (const auto& symbol : trader_.config().symbols) {
    metrics_.positions.emplace_back(
        symbol.name, &registry.gauge("agent_position_lots", "Position per symbol, over all venues.",
                                     {{"symbol", symbol.name}}));
  }
  for (const auto reason : agents::all_risk_refusals) {
    metrics_.refusals.emplace_back(
        reason,
        &registry.gauge("agent_risk_refusals", "Orders the agent's own risk limits stopped.",
                        {{"reason", std::string(agents::to_string(reason))}}));
  }
  for (const auto& info : trader_.config().venues) {
    const auto address = options_.venue_addresses.find(info.id);
    auto venue = std::make_unique<Venue>(
        info.id, address == options_.venue_addresses.end() ? "" : address->second, strand_);
    venue->symbols = info.symbols;
    venue->connected =
        &registry.gauge("agent_market_data_connected",
                        "1 while the venue's market data stream is open and its books are trusted.",
                        {{"venue", info.id}});
    if (!venue->address.empty()) {
      const runtime::ChannelConfig channel{.node_id = options_.node_id,
                                           .proxy_address = options_.proxy_address,
                                           .max_receive_message_bytes = 16 << 20,
                                           .reconnect_backoff_max_ms = 1000,
                                           .tls = options_.tls,
                                           .peer = info.id};
      venue->stub = pb::Exchange::NewStub(runtime::make_channel(venue->address, channel));
    }
    venues_.push_back(std::move(venue));
  }
}

Agent::~Agent() = default;

void Agent::start() {
  for (auto& venue : venues_) {
    if (!venue->stub) {
      spdlog::warn("no address for venue {}: it is not traded", venue->id);
      continue;
    }
    open_market_data(*venue);
    open_session(*venue);
    cancel_leftovers(*venue);
  }
  start_peers();
  schedule_tick();
  refresh_gauges();
  spdlog::info("agent {} ({}) trading on {} venues, reaction time {} us", options_.node_id,
               trader_.strategy().name(), venues_.size(), options_.reaction_time_us);
}

void Agent::stop() {
  stopped_ = true;
  tick_.cancel();
  gauges_.cancel();
  stop_peers();
  for (auto& venue : venues_) {
    venue->market_retry.cancel();
    venue->session_retry.cancel();
    venue->leftovers_retry.cancel();
    if (venue->market_data) venue->market_data->cancel();
    if (venue->session) venue->session->cancel();
  }
}

void Agent::open_market_data(Venue& venue) {
  pb::MarketDataRequest request;
  for (const auto& symbol : venue.symbols) request.add_symbols(symbol);
  Venue* v = &venue;
  venue.market_data = runtime::open_reader<pb::MarketDataRequest, pb::MarketDataEvent>(
      strand_, std::move(request), [](grpc::ClientContext&) {},
      [v](auto* context, auto* req, auto* reactor) {
        v->stub->async()->StreamMarketData(context, req, reactor);
      },
      {.on_read = [this, v](const pb::MarketDataEvent& event) { on_market_data(*v, event); },
       .on_done =
           [this, v](const grpc::Status& status) {
             v->market_data.reset();
             v->connected->set(0);
             if (stopped_) return;
             // Books are not trusted until the next snapshot.
             for (const auto& symbol : v->symbols) {
               if (auto* book = trader_.book(v->id, symbol)) *book = agents::LocalBook();
             }
             if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
               spdlog::warn("market data from {} ended: {}", v->id, status.error_message());
             }
             retry_later(*v, false);
           }});
}

void Agent::open_session(Venue& venue) {
  Venue* v = &venue;
  const std::string key = options_.api_key;
  // Requests that queue while one is being written go out together, up to 16 KiB: well within
  // exchanged's message limit (--message-bytes-max, 64 KiB by default).
  venue.session = runtime::open_bidi<pb::SessionRequests, pb::SessionEvents>(
      strand_, [key](grpc::ClientContext& context) { context.AddMetadata("x-api-key", key); },
      [v](auto* context, auto* reactor) { v->stub->async()->OrderSession(context, reactor); },
      {.on_read =
           [this, v](const pb::SessionEvents& events) {
             for (const pb::SessionEvent& event : events.events()) on_session_event(*v, event);
           },
       .on_done =
           [this, v](const grpc::Status& status) {
             v->session.reset();
             if (stopped_) return;
             // What was sent there and not answered is unknown now: the venue may have it.
             metrics_.orders_indeterminate.add(trader_.venue_lost(v->id));
             spdlog::warn("order session with {} ended: {} {}", v->id,
                          static_cast<int>(status.error_code()), status.error_message());
             retry_later(*v, true);
           }},
      16 << 10);
}

void Agent::cancel_leftovers(Venue& venue) {
  // Orders an earlier run of this agent left resting: their fills would change a position this
  // run does not know of. Asked once at the start (again every second until the venue answers).
  Venue* v = &venue;
  runtime::async_unary<pb::AccountState>(
      strand_, {.timeout = 5s, .metadata = {{"x-api-key", options_.api_key}}},
      [v](auto* context, auto* response, auto done) {
        pb::GetAccountRequest request;
        v->stub->async()->GetAccount(context, &request, response, std::move(done));
      },
      [this, v](const grpc::Status& status, const pb::AccountState& account) {
        if (stopped_) return;
        if (!status.ok()) {
          v->leftovers_retry.expires_after(1s);
          v->leftovers_retry.async_wait([this, v](const boost::system::error_code& ec) {
            if (!ec && !stopped_) cancel_leftovers(*v);
          });
          return;
        }
        for (const auto& order : account.open_orders()) {
          if (trader_.order_id_of(order.client_order_id())) continue;  // this run's
          spdlog::info("cancelling {} on {}, left by an earlier run", order.client_order_id(),
                       v->id);
          auto request = std::make_shared<pb::CancelOrderRequest>();
          runtime::stamp(*request->mutable_header(), options_.node_id);
          request->set_order_id(order.order_id());
          runtime::async_unary<pb::OrderResponse>(
              strand_, {.timeout = 5s, .metadata = {{"x-api-key", options_.api_key}}},
              [v, request](auto* context, auto* response, auto done) {
                v->stub->async()->CancelOrder(context, request.get(), response, std::move(done));
              },
              [this](const grpc::Status&, const pb::OrderResponse&) {
                metrics_.cancels_sent.add();
              });
        }
      });
}

void Agent::retry_later(Venue& venue, bool session) {
  auto& timer = session ? venue.session_retry : venue.market_retry;
  auto& backoff = session ? venue.session_backoff : venue.market_backoff;
  timer.expires_after(backoff);
  backoff = std::min<std::chrono::milliseconds>(backoff * 2, retry_max);
  Venue* v = &venue;
  timer.async_wait([this, v, session](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    metrics_.reconnects.add();
    session ? open_session(*v) : open_market_data(*v);
  });
}

void Agent::on_market_data(Venue& venue, const pb::MarketDataEvent& event) {
  using agents::BookLevel;
  using agents::BookUpdate;
  const auto levels = [](const auto& from) {
    std::vector<BookLevel> out;
    out.reserve(static_cast<std::size_t>(from.size()));
    for (const auto& l : from) out.push_back({l.price_ticks(), l.quantity_lots(), l.order_count()});
    return out;
  };
  BookUpdate update = BookUpdate::applied;
  switch (event.event_case()) {
    case pb::MarketDataEvent::kSnapshot: {
      const auto& s = event.snapshot();
      agents::LocalBook* book = trader_.book(venue.id, s.symbol());
      if (book == nullptr) return;
      book->reset(s.seq(), levels(s.bids()), levels(s.asks()), s.last_trade_price_ticks());
      venue.market_backoff = retry_first;
      venue.connected->set(1);
      break;
    }
    case pb::MarketDataEvent::kDelta: {
      const auto& d = event.delta();
      agents::LocalBook* book = trader_.book(venue.id, d.symbol());
      if (book == nullptr) return;
      const auto side = wire::from_proto(d.side());
      if (!side) return;
      update = book->apply_level(
          d.seq(), *side,
          {d.level().price_ticks(), d.level().quantity_lots(), d.level().order_count()});
      break;
    }
    case pb::MarketDataEvent::kTrade: {
      const auto& t = event.trade();
      agents::LocalBook* book = trader_.book(venue.id, t.symbol());
      if (book == nullptr) return;
      update = book->apply_trade(t.seq(), t.price_ticks(), t.quantity_lots());
      break;
    }
    default:
      return;
  }
  if (update == BookUpdate::gap) {
    // Missed a message: subscribe again for a fresh snapshot (on_done reopens the stream).
    metrics_.book_gaps.add();
    spdlog::info("gap in {}'s market data: subscribing again", venue.id);
    venue.market_backoff = std::chrono::milliseconds(0);
    if (venue.market_data) venue.market_data->cancel();
    return;
  }
  if (update == BookUpdate::applied && trader_.strategy().reacts_to_books()) decide_soon();
}

void Agent::on_session_event(Venue& venue, const pb::SessionEvent& event) {
  venue.session_backoff = retry_first;
  const auto& e = event.event();
  const std::int64_t now = options_.clock->wall_ns();
  switch (e.event_case()) {
    case pb::OrderEvent::kAccepted: {
      const auto id = trader_.order_id_of(e.accepted().client_order_id());
      if (!id) return;
      if (const auto* order = trader_.order(*id); order && order->sent_ns > 0) {
        metrics_.ack_latency.observe(now - order->sent_ns);
      }
      std::optional<agents::OwnOrder> cancel_now;
      trader_.on_accepted(*id, e.accepted().order_id(), now, &cancel_now);
      if (cancel_now) send_cancel(*cancel_now);
      break;
    }
    case pb::OrderEvent::kRejected: {
      metrics_.rejects.add();
      const std::uint64_t request = event.request_id();
      const std::uint64_t id = request & ~cancel_bit;
      if (id == 0) return;
      if ((request & cancel_bit) == 0) {
        spdlog::debug("order {} rejected: {}", id, e.rejected().detail());
      }
      // A refused cancel means the order is not open there any more; a refused order never was.
      trader_.on_rejected(id, now);
      break;
    }
    case pb::OrderEvent::kFill: {
      const auto& f = e.fill();
      const auto id = trader_.order_id_of(f.client_order_id());
      if (!id) return;
      if (trader_.on_fill(*id, f.price_ticks(), f.quantity_lots(), f.remaining_quantity_lots(),
                          now)) {
        metrics_.fills.add();
      }
      break;
    }
    case pb::OrderEvent::kCancelled: {
      const auto id = trader_.order_id_of(e.cancelled().client_order_id());
      if (id) trader_.on_cancelled(*id);
      break;
    }
    default:
      break;
  }
}

void Agent::schedule_tick() {
  tick_.expires_after(
      std::chrono::milliseconds(std::max<std::int64_t>(1, trader_.strategy().interval_ms())));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    decide();
    schedule_tick();
  });
}

void Agent::decide_soon() {
  if (decision_posted_) return;
  decision_posted_ = true;
  boost::asio::post(strand_, [this] {
    decision_posted_ = false;
    if (!stopped_) decide();
  });
}

void Agent::decide() {
  metrics_.decisions.add();
  dispatch(trader_.decide(options_.clock->wall_ns()));
}

void Agent::dispatch(Outbox outbox) {
  // Signals leave at once: the reaction time is the agent's to act, not its news's to travel.
  if (sharing_) {
    for (const auto& signal : outbox.signals) {
      metrics_.signals_originated.add();
      gossip(signal, "");
    }
  }
  if (outbox.orders.empty() && outbox.cancels.empty() && !outbox.coordinated) return;
  if (options_.reaction_time_us <= 0) {
    release(outbox);
    return;
  }
  // The decision leaves after the reaction time.
  auto timer = std::make_shared<boost::asio::steady_timer>(
      strand_, std::chrono::microseconds(options_.reaction_time_us));
  timer->async_wait([this, timer, outbox = std::move(outbox)](const boost::system::error_code& ec) {
    if (!ec && !stopped_) release(outbox);
  });
}

void Agent::release(const Outbox& outbox) {
  for (const auto& order : outbox.cancels) send_cancel(order);
  const std::int64_t now = options_.clock->wall_ns();
  for (const auto& order : outbox.orders) send_order(order, now);
  if (outbox.coordinated && coordination_) propose(*outbox.coordinated);
}

void Agent::send_order(const agents::OwnOrder& order, std::int64_t now_ns) {
  if (!trader_.sent(order.id, now_ns)) return;  // cancelled while it waited
  if (!send_submit(order)) {
    metrics_.orders_unsent.add();
    trader_.on_rejected(order.id, now_ns);
  }
}

bool Agent::send_submit(const agents::OwnOrder& order) {
  Venue* v = venue(order.request.venue);
  if (v == nullptr || !v->session) return false;
  pb::SessionRequests message;
  pb::SessionRequest& request = *message.add_requests();
  request.set_request_id(order.id);
  auto& submit = *request.mutable_submit();
  runtime::stamp(*submit.mutable_header(), options_.node_id);
  submit.set_client_order_id(trader_.client_order_id(order.id));
  submit.set_symbol(order.request.symbol);
  submit.set_side(wire::to_proto(order.request.side));
  submit.set_quantity_lots(order.request.quantity_lots);
  if (order.request.price_ticks == 0) {
    submit.set_type(pb::ORDER_TYPE_MARKET);
    submit.set_time_in_force(pb::TIME_IN_FORCE_IOC);
  } else {
    submit.set_type(pb::ORDER_TYPE_LIMIT);
    submit.set_price_ticks(order.request.price_ticks);
    submit.set_time_in_force(order.request.tif == agents::Tif::ioc ? pb::TIME_IN_FORCE_IOC
                                                                   : pb::TIME_IN_FORCE_GTC);
    submit.set_post_only(order.request.post_only);
  }
  if (!v->session->send(std::move(message))) return false;
  metrics_.orders_sent.add();
  return true;
}

void Agent::send_cancel(const agents::OwnOrder& order) {
  Venue* v = venue(order.request.venue);
  if (v == nullptr || !v->session || order.exchange_id == 0) return;
  pb::SessionRequests message;
  pb::SessionRequest& request = *message.add_requests();
  request.set_request_id(order.id | cancel_bit);
  auto& cancel = *request.mutable_cancel();
  runtime::stamp(*cancel.mutable_header(), options_.node_id);
  cancel.set_order_id(order.exchange_id);
  if (v->session->send(std::move(message))) metrics_.cancels_sent.add();
}

Agent::Venue* Agent::venue(const std::string& id) {
  for (auto& v : venues_) {
    if (v->id == id) return v.get();
  }
  return nullptr;
}

// The adaptive agent's arm changed since the last look (the first look names none before it).
void Agent::publish_switch() {
  const std::size_t from = std::exchange(arm_published_, adaptive_->current());
  runtime::TelemetryService* telemetry = options_.telemetry;
  if (from == SIZE_MAX || telemetry == nullptr ||
      !telemetry->wants(runtime::TelemetryService::Event::kStrategySwitch)) {
    return;
  }
  runtime::TelemetryService::Event event;
  auto* change = event.mutable_strategy_switch();
  change->set_agent_id(options_.node_id);
  change->set_from_strategy(std::string(adaptive_->arm_name(from)));
  change->set_to_strategy(std::string(adaptive_->arm_name(arm_published_)));
  std::uint64_t episodes = 0;
  for (std::size_t arm = 0; arm < adaptive_->arms(); ++arm)
    episodes += adaptive_->bandit().plays(arm);
  change->set_episodes(episodes);
  telemetry->publish(std::move(event));
}

void Agent::refresh_gauges() {
  metrics_.pnl_cents.set(trader_.pnl_cents());
  metrics_.cash_cents.set(trader_.cash_cents());
  metrics_.live_orders.set(static_cast<std::int64_t>(trader_.live_orders().size()));
  metrics_.traded_lots.set(trader_.traded_lots());
  for (const auto& [symbol, gauge] : metrics_.positions) gauge->set(trader_.position(symbol));
  for (const auto& [reason, gauge] : metrics_.refusals) {
    gauge->set(static_cast<std::int64_t>(trader_.refused(reason)));
  }
  for (std::size_t arm = 0; arm < metrics_.adaptive.size(); ++arm) {
    metrics_.adaptive[arm][0]->set(static_cast<std::int64_t>(adaptive_->bandit().plays(arm)));
    metrics_.adaptive[arm][1]->set(arm == adaptive_->current() ? 1 : 0);
  }
  if (adaptive_ != nullptr && adaptive_->current() != arm_published_) publish_switch();
  refresh_peer_gauges();
  gauges_.expires_after(250ms);
  gauges_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) refresh_gauges();
  });
}

}  // namespace mkt::agentd
