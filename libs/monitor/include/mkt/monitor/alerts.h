#pragma once
// Alerts without I/O: each rule turns what the monitor observed at one moment into checks (is this
// subject in breach, clear, or in between), and a tracker per (rule, subject) raises and resolves
// an alert with hysteresis, so a value that wobbles around its threshold does not flap.
//
// A condition is raised once it has been in breach for `raise_after`, and resolved once it has
// been clear for `clear_after`. Between the two lies a band: for an upper threshold T, a value
// above T is a breach, below T * (1 - band) is clear, and in between it holds whatever state it
// had (and resets neither timer). A subject that is no longer observed counts as clear.
//
// Events (a leader change) are not conditions: they raise an alert at once that resolves after
// `event_hold` without another.
//
// Time is an argument (nanoseconds on any one clock); nothing here reads a clock.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkt::monitor {

enum class Severity : std::uint8_t { info, warning, error, critical };
std::string_view to_string(Severity severity);

struct Hysteresis {
  std::int64_t raise_after_ns = 2'000'000'000;
  std::int64_t clear_after_ns = 5'000'000'000;
  double band = 0.1;  // a fraction of the threshold
  std::int64_t event_hold_ns = 10'000'000'000;
};

// One rule's verdict on one subject at one moment.
enum class Verdict : std::uint8_t { breach, hold, clear };

struct Check {
  std::string rule;     // "link_latency"
  std::string subject;  // "ex-1>val-1", a node id, a symbol
  Severity severity = Severity::warning;
  Verdict verdict = Verdict::clear;
  double value = 0;      // what was measured
  double threshold = 0;  // what it was compared with
  std::string evidence;  // one line a person can read: "p99 delay 1.4 s > 1 s"
};

// The verdict on `value` against an upper (`above` true) or lower threshold, with the band.
Verdict compare(double value, double threshold, bool above, double band);

struct Alert {
  std::uint64_t id = 0;
  std::string rule;
  std::string subject;
  Severity severity = Severity::warning;
  std::int64_t started_ns = 0;  // the first breach of this episode
  std::int64_t raised_ns = 0;
  std::int64_t ended_ns = 0;  // 0 while active
  double value = 0;           // the latest value while active
  double peak = 0;            // the value furthest past the threshold
  double threshold = 0;
  std::uint64_t count = 1;  // events folded into this alert (a leader change)
  std::string evidence;     // the latest evidence while in breach
  bool active() const { return ended_ns == 0; }
};

struct AlertChange {
  enum class Kind : std::uint8_t { raised, resolved } kind;
  Alert alert;
};

// The trackers and the alerts they raised: active ones, and the last `history_max` resolved.
class AlertBook {
 public:
  explicit AlertBook(Hysteresis hysteresis = {}, std::size_t history_max = 1000);

  // One round of checks taken at `now_ns`: every subject a rule observed this round. Trackers of
  // a rule that were not in this round's checks count as clear (`rules` names the rules that
  // ran, so a rule that did not run this round leaves its trackers alone).
  std::vector<AlertChange> apply(const std::vector<Check>& checks,
                                 const std::vector<std::string_view>& rules, std::int64_t now_ns);
  // An event: raised at once (or folded into the same rule and subject's active alert), resolved
  // by `expire` once `event_hold` has passed since the last one.
  std::vector<AlertChange> event(const Check& check, std::int64_t now_ns);
  std::vector<AlertChange> expire(std::int64_t now_ns);

  std::vector<Alert> active() const;                             // oldest first
  const std::deque<Alert>& history() const { return history_; }  // resolved, oldest first
  const Hysteresis& hysteresis() const { return hysteresis_; }

 private:
  struct Tracker {
    bool in_breach = false;     // since the last breach or clear verdict (holds keep it)
    std::int64_t since_ns = 0;  // when it turned to breach or to clear
    double peak = 0;            // of this episode's breaches, raised or not
    std::optional<Alert> alert;
    bool event = false;
    std::int64_t last_event_ns = 0;
  };
  using Key = std::pair<std::string, std::string>;

  void raise(Tracker& tracker, const Check& check, std::int64_t started_ns, std::int64_t now_ns,
             std::vector<AlertChange>& out);
  void resolve(Tracker& tracker, std::int64_t now_ns, std::vector<AlertChange>& out);
  void step(Tracker& tracker, const Check& check, std::int64_t now_ns,
            std::vector<AlertChange>& out);

  Hysteresis hysteresis_;
  std::size_t history_max_;
  std::uint64_t next_id_ = 1;
  std::map<Key, Tracker> trackers_;
  std::deque<Alert> history_;
};

}  // namespace mkt::monitor
