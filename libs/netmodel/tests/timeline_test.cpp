// The disruption timeline of the partition-drill scenario: every disruption starts and ends at
// its times (a node failure's partition lasts its recovery time longer), steps come out once and
// in order, and ends come before starts at the same time.
#include "mkt/netmodel/timeline.h"

#include <catch2/catch_test_macros.hpp>
#include <fstream>
#include <sstream>

namespace {

using mkt::netmodel::Timeline;
using Kind = mkt::netmodel::TimelineStep::Kind;

mkt::scenario::Scenario drill() {
  std::ifstream in(NETMARKET_SCENARIOS_DIR "/partition-drill.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto scenario = mkt::scenario::parse(text.str(), "partition-drill.yaml");
  REQUIRE(scenario);
  return std::move(*scenario);
}

}  // namespace

TEST_CASE("timeline: the drill's disruptions start and end at their times, in order") {
  const auto scenario = drill();
  Timeline timeline(scenario.disruptions);
  REQUIRE(timeline.steps().size() == 8);
  CHECK(timeline.next_ms() == 30'000);
  CHECK(timeline.due(29'999).empty());
  const auto first = timeline.due(30'000);
  REQUIRE(first.size() == 1);
  CHECK(first[0] == mkt::netmodel::TimelineStep{30'000, 0, Kind::start, true});
  // Everything up to the node failure's end: the split heals at 60 s, the failure (20 s plus
  // 10 s of recovery) runs from 90 s to 120 s.
  const auto next = timeline.due(120'000);
  REQUIRE(next.size() == 3);
  CHECK(next[0] == mkt::netmodel::TimelineStep{60'000, 0, Kind::end, true});
  CHECK(next[1] == mkt::netmodel::TimelineStep{90'000, 1, Kind::start, true});
  CHECK(next[2] == mkt::netmodel::TimelineStep{120'000, 1, Kind::end, true});
  const auto rest = timeline.due(1'000'000);
  REQUIRE(rest.size() == 4);
  CHECK(rest.back().at_ms == 255'000);
  CHECK(timeline.next_ms() == std::nullopt);
  CHECK(timeline.due(2'000'000).empty());
}

TEST_CASE("timeline: at the same time an end comes before a start") {
  mkt::scenario::Disruption a;
  a.type = mkt::scenario::DisruptionType::congestion;
  a.start_ms = 0;
  a.duration_ms = 100;
  mkt::scenario::Disruption b = a;
  b.start_ms = 100;
  Timeline timeline({a, b});
  const auto steps = timeline.due(100);
  REQUIRE(steps.size() == 3);
  CHECK(steps[1].at_ms == 100);
  CHECK(steps[1].kind == Kind::end);
  CHECK(steps[1].disruption == 0);
  CHECK(steps[2].kind == Kind::start);
  CHECK(steps[2].disruption == 1);
  CHECK_FALSE(steps[0].partition);
}
