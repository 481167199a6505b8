#include "mkt/monitor/alerts.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "mkt/core/enum_table.h"

namespace mkt::monitor {
namespace {

constexpr auto severities = core::enum_table<Severity, std::string_view>({
    {Severity::info, "info"},
    {Severity::warning, "warning"},
    {Severity::error, "error"},
    {Severity::critical, "critical"},
});

// The value further past the threshold.
double worse(double peak, double value, double threshold) {
  return std::abs(value - threshold) > std::abs(peak - threshold) ? value : peak;
}

// Folds a breach's value into an active alert.
void update(Alert& alert, const Check& check) {
  alert.value = check.value;
  alert.threshold = check.threshold;
  alert.peak = worse(alert.peak, check.value, check.threshold);
  if (!check.evidence.empty()) alert.evidence = check.evidence;
}

}  // namespace

std::string_view to_string(Severity severity) {
  return *severities.second_of(severity);
}

Verdict compare(double value, double threshold, bool above, double band) {
  if (above) {
    if (value > threshold) return Verdict::breach;
    return value < threshold * (1 - band) ? Verdict::clear : Verdict::hold;
  }
  if (value < threshold) return Verdict::breach;
  return value > threshold * (1 + band) ? Verdict::clear : Verdict::hold;
}

AlertBook::AlertBook(Hysteresis hysteresis, std::size_t history_max)
    : hysteresis_(hysteresis), history_max_(history_max) {}

void AlertBook::raise(Tracker& tracker, const Check& check, std::int64_t started_ns,
                      std::int64_t now_ns, std::vector<AlertChange>& out) {
  tracker.alert = Alert{.id = next_id_++,
                        .rule = check.rule,
                        .subject = check.subject,
                        .severity = check.severity,
                        .started_ns = started_ns,
                        .raised_ns = now_ns,
                        .ended_ns = 0,
                        .value = check.value,
                        .peak = tracker.peak,
                        .threshold = check.threshold,
                        .count = 1,
                        .evidence = check.evidence};
  out.push_back({AlertChange::Kind::raised, *tracker.alert});
}

void AlertBook::resolve(Tracker& tracker, std::int64_t now_ns, std::vector<AlertChange>& out) {
  Alert& alert = *tracker.alert;
  alert.ended_ns = now_ns;
  out.push_back({AlertChange::Kind::resolved, alert});
  history_.push_back(std::move(alert));
  while (history_.size() > history_max_) history_.pop_front();
  tracker.alert.reset();
}

void AlertBook::step(Tracker& tracker, const Check& check, std::int64_t now_ns,
                     std::vector<AlertChange>& out) {
  switch (check.verdict) {
    case Verdict::breach:
      if (!tracker.in_breach) {
        tracker.in_breach = true;
        tracker.since_ns = now_ns;
        if (!tracker.alert) tracker.peak = check.value;
      }
      tracker.peak = worse(tracker.peak, check.value, check.threshold);
      if (tracker.alert) {
        update(*tracker.alert, check);
      } else if (now_ns - tracker.since_ns >= hysteresis_.raise_after_ns) {
        raise(tracker, check, tracker.since_ns, now_ns, out);
      }
      break;
    case Verdict::clear:
      if (tracker.in_breach) {
        tracker.in_breach = false;
        tracker.since_ns = now_ns;
      }
      if (tracker.alert && now_ns - tracker.since_ns >= hysteresis_.clear_after_ns) {
        resolve(tracker, now_ns, out);
      }
      break;
    case Verdict::hold:
      if (tracker.alert) tracker.alert->value = check.value;
      break;
  }
}

std::vector<AlertChange> AlertBook::apply(const std::vector<Check>& checks,
                                          const std::vector<std::string_view>& rules,
                                          std::int64_t now_ns) {
  std::vector<AlertChange> out;
  std::set<Key> seen;
  for (const Check& check : checks) {
    Key key{check.rule, check.subject};
    step(trackers_[key], check, now_ns, out);
    seen.insert(std::move(key));
  }
  // What a rule that ran did not observe is clear; trackers with nothing to remember go.
  for (auto it = trackers_.begin(); it != trackers_.end();) {
    auto& [key, tracker] = *it;
    const bool ran = std::find(rules.begin(), rules.end(), key.first) != rules.end();
    if (!tracker.event && ran && !seen.contains(key)) {
      Check absent{.rule = key.first,
                   .subject = key.second,
                   .severity = Severity::info,
                   .verdict = Verdict::clear,
                   .value = tracker.alert ? tracker.alert->value : 0,
                   .threshold = tracker.alert ? tracker.alert->threshold : 0,
                   .evidence = {}};
      step(tracker, absent, now_ns, out);
    }
    const bool idle = !tracker.event && !tracker.alert && !tracker.in_breach;
    it = idle ? trackers_.erase(it) : std::next(it);
  }
  return out;
}

std::vector<AlertChange> AlertBook::event(const Check& check, std::int64_t now_ns) {
  std::vector<AlertChange> out;
  Tracker& tracker = trackers_[{check.rule, check.subject}];
  tracker.event = true;
  tracker.last_event_ns = now_ns;
  if (tracker.alert) {
    ++tracker.alert->count;
    update(*tracker.alert, check);
    return out;
  }
  tracker.peak = check.value;
  raise(tracker, check, now_ns, now_ns, out);
  return out;
}

std::vector<AlertChange> AlertBook::expire(std::int64_t now_ns) {
  std::vector<AlertChange> out;
  for (auto it = trackers_.begin(); it != trackers_.end();) {
    Tracker& tracker = it->second;
    if (tracker.event && now_ns - tracker.last_event_ns >= hysteresis_.event_hold_ns) {
      if (tracker.alert) resolve(tracker, now_ns, out);
      it = trackers_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<Alert> AlertBook::active() const {
  std::vector<Alert> out;
  for (const auto& [key, tracker] : trackers_) {
    if (tracker.alert) out.push_back(*tracker.alert);
  }
  std::sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) { return a.id < b.id; });
  return out;
}

}  // namespace mkt::monitor
