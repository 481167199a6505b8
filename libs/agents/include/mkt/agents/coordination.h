#pragma once
// Coordinated trading without I/O: the two-phase protocol by which a coalition agrees on a trade,
// from either side. agentd carries its messages over the peer service (Coordinate) and places the
// legs; the tests drive both sides by hand.
//
// The coordinator proposes a trade (one leg per member, its own included, at most group_max) with
// a deadline of timeout_ms. Each partner accepts, if it is not busy with another proposal and its
// leg passes its risk limits, or refuses. When every partner has accepted before the deadline the
// coordinator commits: it tells them, and each places its leg. A refusal, or a partner silent at
// the deadline, aborts the proposal: the coordinator tells those that accepted, nobody trades, and
// it waits between one and two timeouts (drawn) before it proposes again, so that two members
// proposing at once do not keep refusing each other.
//
// A partner that accepted and hears neither commit nor abort by the deadline plus one timeout (the
// time a commit may still be on its way) aborts by itself. A commit that arrives later is refused,
// and the coordinator counts that partner's leg as missed: two-phase commit cannot rule this out
// when messages are delayed past the timeout, so it is measured instead.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/agents/strategy.h"

namespace mkt::agents {

struct Leg {
  std::string agent;
  std::string venue;
  std::string symbol;
  Side side = Side::buy;
  std::int64_t quantity_lots = 0;
  std::int64_t limit_price_ticks = 0;  // the worst price the leg may trade at
};

struct Proposal {
  std::string id;  // "<coordinator>/<sequence>"
  std::string coordinator;
  std::vector<Leg> legs;
  std::int64_t deadline_ns = 0;
};

struct CoordinationParams {
  std::uint32_t group_max = 4;  // members of one trade, the coordinator included
  std::int64_t timeout_ms = 500;
};

class Coordination {
 public:
  // `partners`: the other members of the coalition, in the order they are asked (the first
  // group_max - 1 of them take part).
  Coordination(std::string agent_id, std::vector<std::string> partners, CoordinationParams params,
               std::uint64_t seed);

  // --- as coordinator ---
  // A proposal of `trade` to the coalition: the same leg for every member. Nullopt while busy
  // (a proposal of its own or one it accepted is open), while waiting after an abort, or without
  // partners.
  std::optional<Proposal> propose(const CoordinatedTrade& trade, std::int64_t now_ns);
  enum class Outcome : std::uint8_t { pending, commit, abort };
  // How an own proposal ended: commit (tell every partner, place the own leg) or abort (tell the
  // partners that had accepted).
  struct Resolution {
    Outcome outcome = Outcome::pending;
    Proposal proposal;
    std::vector<std::string> tell;
  };
  // A partner's answer. Commit once all have accepted; abort at the first refusal.
  Resolution on_vote(std::string_view proposal_id, std::string_view partner, bool accepted,
                     std::int64_t now_ns);
  // After a commit: a partner refused the commit (it had given up waiting).
  void on_commit_refused() { ++counts_.legs_missed; }

  // --- as partner ---
  struct Vote {
    bool accept = false;
    std::string reason;  // why not
  };
  // `leg_refusal`: why its own leg cannot be placed (its risk limits), empty when it can.
  Vote on_propose(const Proposal& proposal, std::int64_t now_ns, const std::string& leg_refusal);
  // Its own leg to place, when it had accepted this proposal and has not given up on it.
  std::optional<Leg> on_commit(std::string_view proposal_id, std::int64_t now_ns);
  // True when it knew the proposal (an abort of one it never accepted changes nothing).
  bool on_abort(std::string_view proposal_id);

  // Both sides: what has run out by now. Its own proposal aborts when a partner has not answered
  // by the deadline (returned, to tell the partners that accepted); an accepted proposal of
  // another is given up a timeout after its deadline.
  std::optional<Resolution> expire(std::int64_t now_ns);

  bool busy() const { return own_.has_value() || joined_.has_value(); }
  const std::vector<std::string>& partners() const { return partners_; }

  struct Counts {
    std::uint64_t proposed = 0;
    std::uint64_t committed = 0;    // own proposals committed
    std::uint64_t aborted = 0;      // own proposals aborted (refused or timed out)
    std::uint64_t timed_out = 0;    // of those, because a partner was silent
    std::uint64_t legs_missed = 0;  // partners that refused a commit (they had given up)
    std::uint64_t joined = 0;       // others' proposals accepted
    std::uint64_t refused = 0;      // others' proposals refused
    std::uint64_t joined_committed = 0;
    std::uint64_t joined_aborted = 0;  // told to abort, or gave up waiting
  };
  const Counts& counts() const { return counts_; }

 private:
  struct Open {
    Proposal proposal;
    std::vector<std::string> accepted;  // partners, in the order they accepted
  };
  Resolution abort_own(std::int64_t now_ns);

  std::string agent_id_;
  std::vector<std::string> partners_;
  CoordinationParams params_;
  Random random_;
  std::uint64_t next_sequence_ = 1;
  std::optional<Open> own_;
  std::optional<Proposal> joined_;   // a proposal of another that it accepted
  std::int64_t quiet_until_ns_ = 0;  // no proposal before (after an abort)
  Counts counts_;
};

}  // namespace mkt::agents
