// The agent's peers: gossip of signals, a broker's subscribers, and the coalition's two-phase
// protocol, over the Peer service (market/peer/v1/peer.proto).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "agent.h"
#include "market/peer/v1/peer.grpc.pb.h"
#include "mkt/agents/strategies.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/client_stream.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/unary.h"
#include "mkt/wire/exchange.h"
#include "peer_parts.h"

namespace mkt::agentd {
namespace {

namespace pb = market::peer::v1;
using namespace std::chrono_literals;

constexpr std::size_t batch_max = 256;              // signals per SendSignals (the proto's limit)
constexpr std::size_t queue_max = 4096;             // signal copies waiting for one peer
constexpr std::size_t reputation_series_max = 100;  // origins with their own metric series
constexpr auto send_timeout = 2s;
constexpr auto subscribe_retry_max = 2s;
constexpr auto coordination_check = 20ms;

pb::SignalKind to_proto(agents::SignalKind kind) {
  switch (kind) {
    case agents::SignalKind::buy:
      return pb::SIGNAL_KIND_BUY;
    case agents::SignalKind::sell:
      return pb::SIGNAL_KIND_SELL;
    case agents::SignalKind::fair_value:
      return pb::SIGNAL_KIND_FAIR_VALUE;
    case agents::SignalKind::volatility:
      return pb::SIGNAL_KIND_VOLATILITY;
    case agents::SignalKind::arbitrage:
      return pb::SIGNAL_KIND_ARBITRAGE;
  }
  return pb::SIGNAL_KIND_UNSPECIFIED;
}

std::optional<agents::SignalKind> from_proto(pb::SignalKind kind) {
  switch (kind) {
    case pb::SIGNAL_KIND_BUY:
      return agents::SignalKind::buy;
    case pb::SIGNAL_KIND_SELL:
      return agents::SignalKind::sell;
    case pb::SIGNAL_KIND_FAIR_VALUE:
      return agents::SignalKind::fair_value;
    case pb::SIGNAL_KIND_VOLATILITY:
      return agents::SignalKind::volatility;
    case pb::SIGNAL_KIND_ARBITRAGE:
      return agents::SignalKind::arbitrage;
    default:
      return std::nullopt;
  }
}

pb::Signal to_proto(const agents::PeerSignal& s) {
  pb::Signal out;
  out.set_signal_id(s.id);
  out.set_origin(s.origin);
  out.set_symbol(s.symbol);
  out.set_kind(to_proto(s.kind));
  out.set_confidence_ppm(s.confidence_ppm);
  out.set_value_ticks(s.value_ticks);
  out.set_origin_ts_ns(s.origin_ts_ns);
  out.set_hop_count(s.hop_count);
  out.set_ttl_hops(s.ttl_hops);
  out.set_expires_at_ns(s.expires_at_ns);
  for (const auto& venue : s.venues) out.add_venues(venue);
  return out;
}

// Nullopt for a kind this agent does not know (counted malformed).
std::optional<agents::PeerSignal> from_proto(const pb::Signal& s) {
  const auto kind = from_proto(s.kind());
  if (!kind) return std::nullopt;
  return agents::PeerSignal{.id = s.signal_id(),
                            .origin = s.origin(),
                            .symbol = s.symbol(),
                            .kind = *kind,
                            .confidence_ppm = s.confidence_ppm(),
                            .value_ticks = s.value_ticks(),
                            .origin_ts_ns = s.origin_ts_ns(),
                            .hop_count = s.hop_count(),
                            .ttl_hops = s.ttl_hops(),
                            .expires_at_ns = s.expires_at_ns(),
                            .venues = {s.venues().begin(), s.venues().end()}};
}

agents::OrderRequest leg_order(const agents::Leg& leg) {
  return agents::take_order(leg.venue, leg.symbol, leg.side, leg.limit_price_ticks,
                            leg.quantity_lots);
}

}  // namespace

void Agent::start_peers() {
  // Agents that share information hear the brokers too (a broker does not subscribe to others).
  if (sharing_ && broker_ == nullptr) {
    for (const auto& broker : brokers_) {
      subscriptions_.push_back(std::make_unique<Subscription>(broker, strand_));
      subscribe(*subscriptions_.back());
    }
  }
  if (coordination_) watch_coordination();
}

void Agent::stop_peers() {
  coordination_timer_.cancel();
  for (auto& s : subscriptions_) {
    s->retry.cancel();
    if (s->call) s->call->cancel();
  }
  for (auto& s : subscribers_) s->stream->finish(grpc::Status::OK);
  subscribers_.clear();
}

Agent::PeerLink* Agent::peer_link(const std::string& id) {
  auto& link = peer_links_[id];
  if (!link) {
    link = std::make_unique<PeerLink>();
    link->id = id;
  }
  // The address is looked up (the addresses file is checked) only while there is no channel, or
  // after a call failed: not on every message.
  if (link->stub && !link->stale) return link.get();
  link->stale = false;
  const auto address = options_.address_of ? options_.address_of(id) : std::nullopt;
  if (address && *address != link->address) {
    // New, or restarted elsewhere.
    link->address = *address;
    const runtime::ChannelConfig channel{.node_id = options_.node_id,
                                         .proxy_address = options_.proxy_address,
                                         .max_receive_message_bytes = 4 << 20,
                                         .reconnect_backoff_max_ms = 1000,
                                         .tls = options_.tls,
                                         .peer = id};
    link->stub = pb::Peer::NewStub(runtime::make_channel(link->address, channel));
  }
  return link.get();
}

// --- signals ---

grpc::Status Agent::on_signals(const pb::SignalBatch& batch) {
  if (static_cast<std::size_t>(batch.signals_size()) > batch_max) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "at most " + std::to_string(batch_max) + " signals per batch"};
  }
  const std::string& from = batch.header().sender();
  for (const auto& s : batch.signals()) {
    auto signal = from_proto(s);
    if (!signal) {
      metrics_.signals_received.at(agents::Admission::malformed)->add();
      continue;
    }
    receive(*signal, from, true);
  }
  return grpc::Status::OK;
}

void Agent::receive(const agents::PeerSignal& signal, const std::string& from, bool forward) {
  if (stopped_) return;
  const std::int64_t now = options_.clock->wall_ns();
  const agents::Admission admission = trader_.on_signal(signal, now);
  metrics_.signals_received.at(admission)->add();
  if (admission != agents::Admission::fresh) return;
  metrics_.signal_age.observe(std::max<std::int64_t>(0, now - signal.origin_ts_ns));
  metrics_.signal_hops.observe(signal.hop_count);
  if (broker_ != nullptr) {
    sell(signal);
    return;  // a broker sells what it collects; it does not give it away
  }
  if (!forward || !sharing_) return;
  if (auto next = agents::Gossip::forwarded(signal)) gossip(*next, from);
}

void Agent::gossip(const agents::PeerSignal& signal, const std::string& except) {
  std::vector<const std::string*> candidates;
  for (const auto& peer : gossip_peers_) {
    if (peer != except && peer != signal.origin) candidates.push_back(&peer);
  }
  // A drawn few (a partial Fisher-Yates shuffle with the trader's seeded draws).
  const std::size_t n = std::min(options_.gossip_fanout, candidates.size());
  auto& random = draws_;
  for (std::size_t i = 0; i < n; ++i) {
    const auto j = static_cast<std::size_t>(random.between(
        static_cast<std::int64_t>(i), static_cast<std::int64_t>(candidates.size()) - 1));
    std::swap(candidates[i], candidates[j]);
    PeerLink& link = *peer_link(*candidates[i]);
    if (link.queue.size() >= queue_max) {
      link.queue.pop_front();
      metrics_.signals_dropped.add();
    }
    link.queue.push_back(to_proto(signal));
    metrics_.signals_forwarded.add();
    flush(link);
  }
}

void Agent::flush(PeerLink& link) {
  if (link.in_flight || link.queue.empty() || stopped_) return;
  if (!link.stub || link.stale) {
    peer_link(link.id);      // its address may be known by now, or have changed
    if (!link.stub) return;  // kept until it is (the gauge refresh tries again)
  }
  auto batch = std::make_shared<pb::SignalBatch>();
  runtime::stamp(*batch->mutable_header(), options_.node_id);
  while (!link.queue.empty() && static_cast<std::size_t>(batch->signals_size()) < batch_max) {
    *batch->add_signals() = std::move(link.queue.front());
    link.queue.pop_front();
  }
  link.in_flight = true;
  PeerLink* l = &link;
  runtime::async_unary<market::common::v1::Ack>(
      strand_, {.timeout = send_timeout},
      [l, batch](auto* context, auto* response, auto done) {
        l->stub->async()->SendSignals(context, batch.get(), response, std::move(done));
      },
      [this, l, batch](const grpc::Status& status, const market::common::v1::Ack&) {
        l->in_flight = false;
        if (status.ok()) {
          flush(*l);
          return;
        }
        // A signal is worth sending while it lives: what failed goes back to the front of the
        // queue (within its bound) and the gauge refresh sends it again, every 250 ms, until it
        // expires. A receiver drops what it has seen, so a batch that arrived before its call
        // failed does no harm.
        l->stale = true;  // restarted elsewhere, perhaps
        metrics_.signal_sends_failed.add();
        const std::int64_t now = options_.clock->wall_ns();
        std::uint64_t dropped = 0;
        auto& signals = *batch->mutable_signals();
        for (auto it = signals.rbegin(); it != signals.rend(); ++it) {
          const auto signal = from_proto(*it);
          if (!signal || trader_.gossip().expiry(*signal) <= now || l->queue.size() >= queue_max) {
            ++dropped;
          } else {
            l->queue.push_front(std::move(*it));
          }
        }
        metrics_.signals_dropped.add(dropped);
        spdlog::debug("signals to {} failed ({}): {} sent again shortly, {} dropped", l->id,
                      status.error_message(), static_cast<std::uint64_t>(signals.size()) - dropped,
                      dropped);
      });
}

// --- the broker ---

grpc::Status Agent::on_subscribe(std::shared_ptr<runtime::Stream<pb::Signal>> stream,
                                 const pb::SubscribeRequest& request) {
  if (broker_ == nullptr) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            options_.node_id + " is not an information broker"};
  }
  if (stopped_) return {grpc::StatusCode::UNAVAILABLE, "stopping"};
  std::erase_if(subscribers_, [](const auto& s) { return !s->stream->open(); });
  if (subscribers_.size() >= broker_->subscribers_max) {
    return {grpc::StatusCode::RESOURCE_EXHAUSTED,
            "the broker has its " + std::to_string(broker_->subscribers_max) + " subscribers"};
  }
  auto subscriber = std::make_unique<Subscriber>();
  subscriber->stream = std::move(stream);
  subscriber->symbols.assign(request.symbols().begin(), request.symbols().end());
  subscriber->confidence_ppm_min = request.confidence_ppm_min();
  spdlog::info("subscriber {} ({} symbols, confidence at least {} ppm)", request.header().sender(),
               subscriber->symbols.size(), subscriber->confidence_ppm_min);
  subscribers_.push_back(std::move(subscriber));
  return grpc::Status::OK;
}

void Agent::sell(const agents::PeerSignal& signal) {
  if (!broker_->sells(trader_.reputation().of(signal.origin))) return;
  std::shared_ptr<const pb::Signal> message;
  for (auto& s : subscribers_) {
    if (!s->stream->open() || signal.confidence_ppm < s->confidence_ppm_min) continue;
    if (!s->symbols.empty() &&
        std::find(s->symbols.begin(), s->symbols.end(), signal.symbol) == s->symbols.end()) {
      continue;
    }
    if (!message) {
      // Passed on as one hop further, like any forward.
      agents::PeerSignal copy = signal;
      ++copy.hop_count;
      message = std::make_shared<const pb::Signal>(to_proto(copy));
    }
    if (s->stream->send(message)) metrics_.signals_sold.add();
  }
}

void Agent::subscribe(Subscription& subscription) {
  Subscription* sub = &subscription;
  const auto retry = [this, sub] {
    sub->retry.expires_after(sub->backoff);
    sub->backoff = std::min<std::chrono::milliseconds>(sub->backoff * 2, subscribe_retry_max);
    sub->retry.async_wait([this, sub](const boost::system::error_code& ec) {
      if (!ec && !stopped_) subscribe(*sub);
    });
  };
  PeerLink* link = peer_link(sub->broker);
  if (!link->stub) {
    retry();  // the broker's address is not known yet
    return;
  }
  pb::SubscribeRequest request;
  runtime::stamp(*request.mutable_header(), options_.node_id);
  const std::string broker = sub->broker;
  sub->call = runtime::open_reader<pb::SubscribeRequest, pb::Signal>(
      strand_, std::move(request), [](grpc::ClientContext&) {},
      [link](auto* context, auto* req, auto* reactor) {
        link->stub->async()->Subscribe(context, req, reactor);
      },
      {.on_read =
           [this, sub, broker](const pb::Signal& s) {
             sub->backoff = subscribe_retry_first;
             if (auto signal = from_proto(s)) {
               receive(*signal, broker, false);
             } else {
               metrics_.signals_received.at(agents::Admission::malformed)->add();
             }
           },
       .on_done =
           [this, sub, retry](const grpc::Status& status) {
             sub->call.reset();
             if (stopped_) return;
             peer_links_.at(sub->broker)->stale = true;  // restarted elsewhere, perhaps
             spdlog::info("subscription to {} ended: {}", sub->broker, status.error_message());
             retry();
           }});
}

// --- coordination ---

void Agent::propose(const agents::CoordinatedTrade& trade) {
  const std::int64_t now = options_.clock->wall_ns();
  const auto proposal = coordination_->propose(trade, now);
  if (!proposal) return;
  pb::CoordinationMessage message;
  runtime::stamp(*message.mutable_header(), options_.node_id);
  message.set_proposal_id(proposal->id);
  auto& propose = *message.mutable_propose();
  propose.set_coordinator(proposal->coordinator);
  propose.set_deadline_ns(proposal->deadline_ns);
  for (const auto& leg : proposal->legs) {
    auto& l = *propose.add_legs();
    l.set_agent_id(leg.agent);
    l.set_exchange_id(leg.venue);
    l.set_symbol(leg.symbol);
    l.set_side(wire::to_proto(leg.side));
    l.set_quantity_lots(leg.quantity_lots);
    l.set_limit_price_ticks(leg.limit_price_ticks);
  }
  spdlog::info("proposing {}: {} {} lots of {} at {} on {}, with {} partners", proposal->id,
               trade.side == agents::Side::buy ? "buy" : "sell", trade.quantity_lots, trade.symbol,
               trade.limit_price_ticks, trade.venue, coordination_->partners().size());
  for (const auto& partner : coordination_->partners()) {
    send_coordination(
        partner, message,
        [this, id = proposal->id, partner](bool ok, const pb::CoordinationReply& r) {
          const bool accepted = ok && r.vote() == pb::CoordinationReply::VOTE_ACCEPT;
          if (!accepted) {
            spdlog::info("{} refused {}: {}", partner, id, ok ? r.reason() : "no answer");
          }
          resolve(coordination_->on_vote(id, partner, accepted, options_.clock->wall_ns()));
        });
  }
}

void Agent::resolve(const agents::Coordination::Resolution& resolution) {
  using Outcome = agents::Coordination::Outcome;
  if (resolution.outcome == Outcome::pending) return;
  const bool commit = resolution.outcome == Outcome::commit;
  spdlog::info("{} {}", resolution.proposal.id, commit ? "committed" : "aborted");
  pb::CoordinationMessage message;
  runtime::stamp(*message.mutable_header(), options_.node_id);
  message.set_proposal_id(resolution.proposal.id);
  if (commit) {
    message.mutable_commit();
  } else {
    message.mutable_abort()->set_reason("not every partner accepted in time");
  }
  for (const auto& partner : resolution.tell) {
    send_coordination(partner, message, [this, commit](bool ok, const pb::CoordinationReply& r) {
      if (commit && (!ok || r.vote() != pb::CoordinationReply::VOTE_ACKNOWLEDGED)) {
        coordination_->on_commit_refused();
      }
    });
  }
  if (!commit) return;
  for (const auto& leg : resolution.proposal.legs) {
    if (leg.agent == options_.node_id) place_leg(leg);
  }
}

void Agent::place_leg(const agents::Leg& leg) {
  const std::int64_t now = options_.clock->wall_ns();
  auto order = trader_.place(leg_order(leg), now);
  if (!order) {
    spdlog::warn("own leg refused by the risk limits: {}", agents::to_string(order.error()));
    return;
  }
  send_order(*order, now);
}

void Agent::send_coordination(const std::string& partner, const pb::CoordinationMessage& message,
                              std::function<void(bool ok, const pb::CoordinationReply&)> done) {
  PeerLink* link = peer_link(partner);
  if (!link->stub) {
    done(false, pb::CoordinationReply{});
    return;
  }
  auto request = std::make_shared<pb::CoordinationMessage>(message);
  const auto timeout = std::chrono::milliseconds(
      std::max<std::int64_t>(1, trader_.strategy().coordination()->timeout_ms));
  runtime::async_unary<pb::CoordinationReply>(
      strand_, {.timeout = timeout},
      [link, request](auto* context, auto* response, auto cb) {
        link->stub->async()->Coordinate(context, request.get(), response, std::move(cb));
      },
      [this, link, request, done = std::move(done)](const grpc::Status& status,
                                                    const pb::CoordinationReply& reply) {
        if (!status.ok()) link->stale = true;  // restarted elsewhere, perhaps
        if (!stopped_) done(status.ok(), reply);
      });
}

grpc::Status Agent::on_coordinate(const pb::CoordinationMessage& message,
                                  pb::CoordinationReply& reply) {
  if (!coordination_) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            options_.node_id + " is not a member of a coalition"};
  }
  const std::int64_t now = options_.clock->wall_ns();
  runtime::stamp(*reply.mutable_header(), options_.node_id);
  reply.set_proposal_id(message.proposal_id());
  switch (message.phase_case()) {
    case pb::CoordinationMessage::kPropose: {
      const auto& p = message.propose();
      agents::Proposal proposal{.id = message.proposal_id(),
                                .coordinator = p.coordinator(),
                                .legs = {},
                                .deadline_ns = p.deadline_ns()};
      std::string refusal;
      for (const auto& l : p.legs()) {
        const auto side = wire::from_proto(l.side());
        if (!side) refusal = "a leg without a side";
        proposal.legs.push_back({.agent = l.agent_id(),
                                 .venue = l.exchange_id(),
                                 .symbol = l.symbol(),
                                 .side = side.value_or(agents::Side::buy),
                                 .quantity_lots = l.quantity_lots(),
                                 .limit_price_ticks = l.limit_price_ticks()});
        if (l.agent_id() == options_.node_id && refusal.empty()) {
          if (const auto risk = trader_.check(leg_order(proposal.legs.back()))) {
            refusal = "its risk limits: " + std::string(agents::to_string(*risk));
          }
        }
      }
      const auto vote = coordination_->on_propose(proposal, now, refusal);
      reply.set_vote(vote.accept ? pb::CoordinationReply::VOTE_ACCEPT
                                 : pb::CoordinationReply::VOTE_REFUSE);
      reply.set_reason(vote.reason);
      break;
    }
    case pb::CoordinationMessage::kCommit: {
      const auto leg = coordination_->on_commit(message.proposal_id(), now);
      if (!leg) {
        reply.set_vote(pb::CoordinationReply::VOTE_REFUSE);
        reply.set_reason("no accepted proposal " + message.proposal_id() + " (gave up on it?)");
        break;
      }
      place_leg(*leg);
      reply.set_vote(pb::CoordinationReply::VOTE_ACKNOWLEDGED);
      break;
    }
    case pb::CoordinationMessage::kAbort:
      coordination_->on_abort(message.proposal_id());
      reply.set_vote(pb::CoordinationReply::VOTE_ACKNOWLEDGED);
      break;
    default:
      return {grpc::StatusCode::INVALID_ARGUMENT, "a coordination message without a phase"};
  }
  return grpc::Status::OK;
}

void Agent::watch_coordination() {
  coordination_timer_.expires_after(coordination_check);
  coordination_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    if (auto expired = coordination_->expire(options_.clock->wall_ns())) resolve(*expired);
    watch_coordination();
  });
}

void Agent::refresh_peer_gauges() {
  for (auto& [id, link] : peer_links_) flush(*link);  // queues waiting for an address
  std::erase_if(subscribers_, [](const auto& s) { return !s->stream->open(); });
  metrics_.subscribers.set(static_cast<std::int64_t>(subscribers_.size()));
  if (coordination_) {
    for (const auto& [event, count] : coordination_events(coordination_->counts())) {
      metrics_.coordination.at(event)->set(static_cast<std::int64_t>(count));
    }
  }
  for (const auto& [origin, record] : trader_.reputation().records()) {
    auto it = metrics_.reputation.find(origin);
    if (it == metrics_.reputation.end()) {
      if (metrics_.reputation.size() >= reputation_series_max) continue;
      const metrics::Labels labels{{"origin", origin}};
      it = metrics_.reputation
               .emplace(origin,
                        std::array<metrics::Gauge*, 3>{
                            &registry_.gauge("agent_peer_reputation_ppm",
                                             "Trust in a signal origin, 0 to 1,000,000.", labels),
                            &registry_.gauge("agent_peer_signals_judged",
                                             "An origin's signals checked so far.", labels),
                            &registry_.gauge("agent_peer_signals_wrong",
                                             "An origin's signals that proved wrong.", labels)})
               .first;
    }
    it->second[0]->set(static_cast<std::int64_t>(record.score * 1e6));
    it->second[1]->set(static_cast<std::int64_t>(record.judged));
    it->second[2]->set(static_cast<std::int64_t>(record.wrong));
  }
}

}  // namespace mkt::agentd
