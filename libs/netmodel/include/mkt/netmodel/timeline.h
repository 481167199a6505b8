#pragma once
// The scenario's timed disruptions as a schedule: each disruption starts at its start time and
// ends after its duration (a partition after the duration its PartitionSpec says, which for a node
// failure includes the recovery time). Time in, the steps due out; the caller carries them out on
// the LinkModel and waits for next_ms(). No clock and no timers, so the proxy's timer and a
// simulation's virtual time drive the same schedule.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "mkt/scenario/scenario.h"

namespace mkt::netmodel {

struct TimelineStep {
  enum class Kind : std::uint8_t { start, end };
  std::int64_t at_ms = 0;      // since the timeline's start
  std::size_t disruption = 0;  // index in the scenario's list
  Kind kind = Kind::start;
  bool partition = false;  // carried out as a partition (else as congestion)

  friend bool operator==(const TimelineStep&, const TimelineStep&) = default;
};

class Timeline {
 public:
  // Steps in time order; at the same time, ends before starts, then in scenario order.
  explicit Timeline(const std::vector<scenario::Disruption>& disruptions);

  // The steps due at `now_ms` (since the start) that were not handed out yet, in order.
  std::vector<TimelineStep> due(std::int64_t now_ms);
  // When the next step is due; nullopt once every step was handed out.
  std::optional<std::int64_t> next_ms() const;
  const std::vector<TimelineStep>& steps() const { return steps_; }

 private:
  std::vector<TimelineStep> steps_;
  std::size_t next_ = 0;
};

}  // namespace mkt::netmodel
