#include "mkt/agents/signals.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace mkt::agents {
namespace {

constexpr std::int64_t ns_per_ms = 1'000'000;
constexpr std::uint32_t ppm_one = 1'000'000;
// Bounds against a flood: origins with a record, and buy/sell calls waiting to be judged.
constexpr std::size_t origins_max = 10'000;
constexpr std::size_t pending_max = 100'000;

}  // namespace

std::string_view to_string(SignalKind kind) {
  switch (kind) {
    case SignalKind::buy:
      return "buy";
    case SignalKind::sell:
      return "sell";
    case SignalKind::fair_value:
      return "fair_value";
    case SignalKind::volatility:
      return "volatility";
    case SignalKind::arbitrage:
      return "arbitrage";
  }
  return "unknown";
}

std::string_view to_string(Admission admission) {
  switch (admission) {
    case Admission::fresh:
      return "fresh";
    case Admission::duplicate:
      return "duplicate";
    case Admission::expired:
      return "expired";
    case Admission::own:
      return "own";
    case Admission::malformed:
      return "malformed";
  }
  return "unknown";
}

Gossip::Gossip(std::string agent_id, GossipParams params)
    : agent_id_(std::move(agent_id)), params_(params) {}

PeerSignal Gossip::originate(const SignalRequest& request, std::int64_t now_ns) {
  PeerSignal s;
  s.id = agent_id_ + "/" + std::to_string(next_sequence_++);
  s.origin = agent_id_;
  s.symbol = request.symbol;
  s.kind = request.kind;
  s.confidence_ppm = std::min(request.confidence_ppm, ppm_one);
  s.value_ticks = request.value_ticks;
  s.origin_ts_ns = now_ns;
  s.hop_count = 0;
  s.ttl_hops = params_.ttl_hops;
  s.expires_at_ns = now_ns + params_.lifetime_ms * ns_per_ms;
  s.venues = request.venues;
  remember(s.id, s.expires_at_ns);
  return s;
}

std::int64_t Gossip::expiry(const PeerSignal& signal) const {
  const std::int64_t longest = signal.origin_ts_ns + params_.lifetime_ms * ns_per_ms;
  return signal.expires_at_ns > 0 ? std::min(signal.expires_at_ns, longest) : longest;
}

Admission Gossip::admit(const PeerSignal& signal, std::int64_t now_ns) {
  const bool id_of_origin = signal.id.size() > signal.origin.size() + 1 &&
                            signal.id.starts_with(signal.origin) &&
                            signal.id[signal.origin.size()] == '/';
  if (signal.origin.empty() || signal.symbol.empty() || !id_of_origin ||
      signal.confidence_ppm > ppm_one || signal.origin_ts_ns <= 0) {
    return Admission::malformed;
  }
  if (signal.origin == agent_id_) return Admission::own;
  if (seen_.contains(signal.id)) return Admission::duplicate;
  const std::int64_t expires = expiry(signal);
  if (expires <= now_ns || signal.hop_count > signal.ttl_hops) return Admission::expired;
  forget_expired(now_ns);
  remember(signal.id, expires);
  recent_.push_back(signal);
  return Admission::fresh;
}

std::optional<PeerSignal> Gossip::forwarded(const PeerSignal& signal) {
  if (signal.hop_count >= signal.ttl_hops) return std::nullopt;
  PeerSignal copy = signal;
  ++copy.hop_count;
  return copy;
}

double Gossip::weight(const PeerSignal& signal, std::int64_t now_ns) const {
  if (expiry(signal) <= now_ns) return 0;
  const double age_ms =
      static_cast<double>(std::max<std::int64_t>(0, now_ns - signal.origin_ts_ns)) / ns_per_ms;
  const double half_life = static_cast<double>(std::max<std::int64_t>(1, params_.half_life_ms));
  return static_cast<double>(signal.confidence_ppm) / ppm_one * std::exp2(-age_ms / half_life);
}

std::vector<const PeerSignal*> Gossip::live(std::string_view symbol, std::int64_t now_ns) {
  forget_expired(now_ns);
  std::vector<const PeerSignal*> out;
  for (const auto& s : recent_) {
    if (s.symbol == symbol && expiry(s) > now_ns) out.push_back(&s);
  }
  return out;
}

void Gossip::remember(const std::string& id, std::int64_t expires_at_ns) {
  if (!seen_.insert(id).second) return;
  seen_order_.emplace_back(id, expires_at_ns);
  while (seen_order_.size() > params_.remembered_max) {
    seen_.erase(seen_order_.front().first);
    seen_order_.pop_front();
  }
}

void Gossip::forget_expired(std::int64_t now_ns) {
  // Ids are kept until their signal expires: a copy arriving later is refused as expired anyway.
  // Expiries are nearly in arrival order, so the front is checked only.
  while (!seen_order_.empty() && seen_order_.front().second <= now_ns) {
    seen_.erase(seen_order_.front().first);
    seen_order_.pop_front();
  }
  while (!recent_.empty() &&
         (expiry(recent_.front()) <= now_ns || recent_.size() > params_.remembered_max)) {
    recent_.pop_front();
  }
}

double Reputation::of(std::string_view origin) const {
  const auto it = records_.find(origin);
  return it == records_.end() ? params_.prior : it->second.score;
}

Reputation::Record* Reputation::record_of(const std::string& origin) {
  auto it = records_.find(origin);
  if (it == records_.end()) {
    // Full: the origin stays unknown (at the prior), and what it sends is counted nowhere.
    if (records_.size() >= origins_max) return nullptr;
    it =
        records_
            .emplace(origin, Record{.score = params_.prior, .judged = 0, .wrong = 0, .received = 0})
            .first;
  }
  return &it->second;
}

void Reputation::received(const PeerSignal& signal) {
  if (Record* r = record_of(signal.origin)) ++r->received;
}

std::int64_t Reputation::value_tolerance_ticks(std::int64_t value_ticks) const {
  const auto relative = static_cast<std::int64_t>(
      std::llround(params_.value_tolerance * static_cast<double>(std::llabs(value_ticks))));
  return std::max(params_.value_tolerance_ticks_min, relative);
}

void Reputation::judge_value(const PeerSignal& signal, std::int64_t observed_ticks) {
  const std::int64_t off = std::llabs(signal.value_ticks - observed_ticks);
  record(signal.origin, off <= value_tolerance_ticks(observed_ticks));
}

void Reputation::expect_move(const PeerSignal& signal, std::int64_t mark_ticks,
                             std::int64_t now_ns) {
  if (pending_.size() >= pending_max || mark_ticks <= 0) return;
  pending_.push_back({.origin = signal.origin,
                      .symbol = signal.symbol,
                      .up = signal.kind == SignalKind::buy,
                      .from_ticks = mark_ticks,
                      .due_ns = now_ns + params_.judge_after_ms * ns_per_ms});
}

void Reputation::settle(std::int64_t now_ns,
                        const std::function<std::int64_t(std::string_view)>& mark) {
  while (!pending_.empty() && pending_.front().due_ns <= now_ns) {
    const Pending p = std::move(pending_.front());
    pending_.pop_front();
    const std::int64_t move = mark(p.symbol) - p.from_ticks;
    if (move != 0) record(p.origin, (move > 0) == p.up);
  }
}

void Reputation::record(const std::string& origin, bool right) {
  Record* r = record_of(origin);
  if (r == nullptr) return;
  ++r->judged;
  if (!right) ++r->wrong;
  r->score += params_.learning_rate * ((right ? 1.0 : 0.0) - r->score);
}

}  // namespace mkt::agents
