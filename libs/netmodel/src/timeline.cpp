#include "mkt/netmodel/timeline.h"

#include <algorithm>

#include "mkt/netmodel/partition.h"

namespace mkt::netmodel {

Timeline::Timeline(const std::vector<scenario::Disruption>& disruptions) {
  for (std::size_t i = 0; i < disruptions.size(); ++i) {
    const scenario::Disruption& d = disruptions[i];
    const auto spec = partition_of(d);
    const std::int64_t duration_ms = spec ? spec->duration_ms : d.duration_ms;
    const bool partition = spec.has_value();
    steps_.push_back({d.start_ms, i, TimelineStep::Kind::start, partition});
    steps_.push_back({d.start_ms + duration_ms, i, TimelineStep::Kind::end, partition});
  }
  std::stable_sort(steps_.begin(), steps_.end(), [](const auto& a, const auto& b) {
    if (a.at_ms != b.at_ms) return a.at_ms < b.at_ms;
    return a.kind == TimelineStep::Kind::end && b.kind == TimelineStep::Kind::start;
  });
}

std::vector<TimelineStep> Timeline::due(std::int64_t now_ms) {
  std::vector<TimelineStep> out;
  while (next_ < steps_.size() && steps_[next_].at_ms <= now_ms) out.push_back(steps_[next_++]);
  return out;
}

std::optional<std::int64_t> Timeline::next_ms() const {
  if (next_ == steps_.size()) return std::nullopt;
  return steps_[next_].at_ms;
}

}  // namespace mkt::netmodel
