#include "mkt/agents/coordination.h"

#include <algorithm>

#include "mkt/core/hash.h"

namespace mkt::agents {
namespace {
constexpr std::int64_t ns_per_ms = 1'000'000;
}

Coordination::Coordination(std::string agent_id, std::vector<std::string> partners,
                           CoordinationParams params, std::uint64_t seed)
    : agent_id_(std::move(agent_id)),
      partners_(std::move(partners)),
      params_(params),
      random_(core::mix64(seed ^ core::fnv1a64(agent_id_ + "/coordination"))) {
  std::erase(partners_, agent_id_);
  const std::size_t others = params_.group_max > 1 ? params_.group_max - 1 : 0;
  if (partners_.size() > others) partners_.resize(others);
}

std::optional<Proposal> Coordination::propose(const CoordinatedTrade& trade, std::int64_t now_ns) {
  if (busy() || now_ns < quiet_until_ns_ || partners_.empty()) return std::nullopt;
  Proposal p;
  p.id = agent_id_ + "/" + std::to_string(next_sequence_++);
  p.coordinator = agent_id_;
  p.deadline_ns = now_ns + params_.timeout_ms * ns_per_ms;
  std::vector<std::string> members = {agent_id_};
  members.insert(members.end(), partners_.begin(), partners_.end());
  for (const auto& member : members) {
    p.legs.push_back({.agent = member,
                      .venue = trade.venue,
                      .symbol = trade.symbol,
                      .side = trade.side,
                      .quantity_lots = trade.quantity_lots,
                      .limit_price_ticks = trade.limit_price_ticks});
  }
  own_ = Open{.proposal = p, .accepted = {}};
  ++counts_.proposed;
  return p;
}

Coordination::Resolution Coordination::on_vote(std::string_view proposal_id,
                                               std::string_view partner, bool accepted,
                                               std::int64_t now_ns) {
  if (!own_ || own_->proposal.id != proposal_id) return {};  // late or unknown
  if (std::find(partners_.begin(), partners_.end(), partner) == partners_.end()) return {};
  if (!accepted) return abort_own(now_ns);
  auto& yes = own_->accepted;
  if (std::find(yes.begin(), yes.end(), partner) != yes.end()) return {};  // said twice
  yes.emplace_back(partner);
  if (now_ns > own_->proposal.deadline_ns) return {};  // too late: expire() aborts it
  if (own_->accepted.size() < partners_.size()) return {};
  Resolution done{
      .outcome = Outcome::commit, .proposal = std::move(own_->proposal), .tell = partners_};
  own_.reset();
  ++counts_.committed;
  return done;
}

Coordination::Resolution Coordination::abort_own(std::int64_t now_ns) {
  Resolution done{.outcome = Outcome::abort,
                  .proposal = std::move(own_->proposal),
                  .tell = std::move(own_->accepted)};
  own_.reset();
  ++counts_.aborted;
  // Between one and two timeouts, drawn: members that proposed at once part ways.
  const double wait = static_cast<double>(params_.timeout_ms * ns_per_ms) * (1 + random_.uniform());
  quiet_until_ns_ = now_ns + static_cast<std::int64_t>(wait);
  return done;
}

Coordination::Vote Coordination::on_propose(const Proposal& proposal, std::int64_t now_ns,
                                            const std::string& leg_refusal) {
  const auto refuse = [&](std::string reason) {
    ++counts_.refused;
    return Vote{.accept = false, .reason = std::move(reason)};
  };
  if (proposal.coordinator == agent_id_) return refuse("a proposal of its own");
  if (busy()) return refuse("busy with proposal " + (own_ ? own_->proposal.id : joined_->id));
  if (now_ns >= proposal.deadline_ns) return refuse("past its deadline");
  if (proposal.legs.size() > params_.group_max) {
    return refuse("a group of " + std::to_string(proposal.legs.size()) + " (at most " +
                  std::to_string(params_.group_max) + ")");
  }
  const auto own_leg = std::find_if(proposal.legs.begin(), proposal.legs.end(),
                                    [&](const Leg& leg) { return leg.agent == agent_id_; });
  if (own_leg == proposal.legs.end()) return refuse("no leg for " + agent_id_);
  if (!leg_refusal.empty()) return refuse(leg_refusal);
  joined_ = proposal;
  ++counts_.joined;
  return {.accept = true, .reason = {}};
}

std::optional<Leg> Coordination::on_commit(std::string_view proposal_id, std::int64_t now_ns) {
  if (!joined_ || joined_->id != proposal_id) return std::nullopt;
  if (now_ns > joined_->deadline_ns + params_.timeout_ms * ns_per_ms) {
    // Given up already (expire() had not run yet): too late.
    joined_.reset();
    ++counts_.joined_aborted;
    return std::nullopt;
  }
  const Proposal p = std::move(*joined_);
  joined_.reset();
  ++counts_.joined_committed;
  for (const auto& leg : p.legs) {
    if (leg.agent == agent_id_) return leg;
  }
  return std::nullopt;
}

bool Coordination::on_abort(std::string_view proposal_id) {
  if (!joined_ || joined_->id != proposal_id) return false;
  joined_.reset();
  ++counts_.joined_aborted;
  return true;
}

std::optional<Coordination::Resolution> Coordination::expire(std::int64_t now_ns) {
  if (joined_ && now_ns > joined_->deadline_ns + params_.timeout_ms * ns_per_ms) {
    joined_.reset();
    ++counts_.joined_aborted;
  }
  if (!own_ || now_ns <= own_->proposal.deadline_ns) return std::nullopt;
  ++counts_.timed_out;
  return abort_own(now_ns);
}

}  // namespace mkt::agents
