#pragma once
// Peer intelligence without I/O: the signals agents share, how a receiver admits them (each once,
// while young and within its hop budget), forwards them one hop further, weighs them less as they
// age, and how it keeps a reputation per origin from the signals it could check.
//
// Reputation: every origin starts at `prior`. A signal that proves right pulls the score towards
// 1, a wrong one towards 0, by learning_rate (an exponential average of outcomes). An origin below
// distrust_below is ignored. With the defaults (0.5, 0.25, 0.2), a peer whose every signal is
// wrong is ignored after its 4th judged signal (0.5 * 0.75^4 = 0.158), and one whose every signal
// is right passes a quality threshold of 0.8 after its 4th (1 - 0.5 * 0.75^4 = 0.842).
//
// What is checked, and how:
// - fair_value: at once, against the receiver's own observation of the fundamental; right when
//   within value_tolerance (a fraction of the value) of it.
// - buy and sell: judge_after_ms later, by the move of the receiver's mark of the symbol since the
//   signal arrived; a buy is right when the price rose, wrong when it fell, not judged when flat.
// - volatility and arbitrage are not judged (they do not change a reputation).

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "mkt/agents/strategy.h"

namespace mkt::agents {

struct PeerSignal {
  std::string id;  // "<origin>/<sequence>"
  std::string origin;
  std::string symbol;
  SignalKind kind = SignalKind::buy;
  std::uint32_t confidence_ppm = 0;  // 0 to 1,000,000
  std::int64_t value_ticks = 0;
  std::int64_t origin_ts_ns = 0;  // the origin's wall clock when it made the signal
  std::uint32_t hop_count = 0;    // 0 when sent by the origin
  std::uint32_t ttl_hops = 0;     // the most hops it may take
  std::int64_t expires_at_ns = 0;
  std::vector<std::string> venues;
};

std::string_view to_string(SignalKind kind);

struct GossipParams {
  std::uint32_t ttl_hops = 4;
  // A signal expires this long after its origin made it (or earlier, if the origin says so).
  std::int64_t lifetime_ms = 10'000;
  // Its weight halves with each half life of age.
  std::int64_t half_life_ms = 2'000;
  // Signal ids kept to drop duplicates (ids of expired signals are let go first).
  std::size_t remembered_max = 100'000;
};

enum class Admission : std::uint8_t {
  fresh,      // new: use it and forward it
  duplicate,  // seen before (by id)
  expired,    // too old, or its hops are spent
  own,        // an echo of this agent's own signal
  malformed,  // missing fields, confidence above 1, an id not of its origin
};
std::string_view to_string(Admission admission);

class Gossip {
 public:
  Gossip(std::string agent_id, GossipParams params);

  // A signal of this agent's own, ready to send (and remembered, so that echoes are dropped).
  PeerSignal originate(const SignalRequest& request, std::int64_t now_ns);
  // Whether a received signal is new. Fresh ones are remembered and kept until they expire.
  Admission admit(const PeerSignal& signal, std::int64_t now_ns);
  // The copy to pass on, one hop further; nullopt when that would exceed its ttl.
  static std::optional<PeerSignal> forwarded(const PeerSignal& signal);
  // Its confidence (0 to 1) halved for every half life of age; 0 once expired.
  double weight(const PeerSignal& signal, std::int64_t now_ns) const;
  // Admitted signals about a symbol that have not expired, oldest first.
  std::vector<const PeerSignal*> live(std::string_view symbol, std::int64_t now_ns);
  // When it expires: its own expiry, but no later than the lifetime after its origin made it.
  std::int64_t expiry(const PeerSignal& signal) const;
  const GossipParams& params() const { return params_; }

 private:
  void remember(const std::string& id, std::int64_t expires_at_ns);
  void forget_expired(std::int64_t now_ns);

  std::string agent_id_;
  GossipParams params_;
  std::uint64_t next_sequence_ = 1;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<std::string, std::int64_t>> seen_order_;  // id, expiry; oldest first
  std::deque<PeerSignal> recent_;                                // admitted, oldest first
};

struct ReputationParams {
  double prior = 0.5;
  double learning_rate = 0.25;
  double distrust_below = 0.2;
  std::int64_t judge_after_ms = 1'000;
  double value_tolerance = 0.002;  // of the value; at least value_tolerance_ticks_min
  std::int64_t value_tolerance_ticks_min = 2;
};

class Reputation {
 public:
  explicit Reputation(ReputationParams params) : params_(params) {}

  struct Record {
    double score = 0;
    std::uint64_t judged = 0;
    std::uint64_t wrong = 0;
    std::uint64_t received = 0;
  };

  double of(std::string_view origin) const;
  bool trusted(std::string_view origin) const { return of(origin) >= params_.distrust_below; }
  // Counts a signal from its origin (judged or not).
  void received(const PeerSignal& signal);
  // How far a fair value may be from the receiver's observation and still be right.
  std::int64_t value_tolerance_ticks(std::int64_t value_ticks) const;
  // A fair value claim against the receiver's own observation of the fundamental.
  void judge_value(const PeerSignal& signal, std::int64_t observed_ticks);
  // A buy or sell call, to judge judge_after_ms from now against the mark then.
  void expect_move(const PeerSignal& signal, std::int64_t mark_ticks, std::int64_t now_ns);
  // Judges the calls that are due; mark(symbol) is the price now.
  void settle(std::int64_t now_ns, const std::function<std::int64_t(std::string_view)>& mark);
  const std::map<std::string, Record, std::less<>>& records() const { return records_; }
  const ReputationParams& params() const { return params_; }

 private:
  struct Pending {
    std::string origin;
    std::string symbol;
    bool up = true;
    std::int64_t from_ticks = 0;
    std::int64_t due_ns = 0;
  };
  Record* record_of(const std::string& origin);  // null when too many origins are known
  void record(const std::string& origin, bool right);

  ReputationParams params_;
  std::map<std::string, Record, std::less<>> records_;
  std::deque<Pending> pending_;  // by due time
};

}  // namespace mkt::agents
