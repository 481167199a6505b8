#pragma once
// A drill's plan: the nemesis schedule `marketctl drill` runs against a market while its agents
// trade. I/O-free: parsed from YAML or built from flags, and expanded into the steps to run with a
// seed, so that the same plan and seed give the same faults in the same order (their targets,
// named by role, are resolved when each step runs: "the leader" is whoever leads then).
//
//   seed: 7
//   rest: 3s                      # after each fault heals, before the next (default 3s)
//   faults:
//     - {fault: kill, target: leader, duration: 4s, repeat: 3}
//     - {fault: pause, target: follower, duration: 5s}
//     - {fault: disconnect, target: leader, duration: 5s}      # containers only
//     - {fault: partition, shape: majorities-ring, duration: 5s}
//     - {fault: partition, shape: isolate, target: leader, duration: 5s}
//     - {fault: kill, target: exchange, duration: 3s}
//
// Faults: kill (SIGKILL / docker kill, then restart), pause (SIGSTOP / docker pause, then
// unpause), disconnect (docker network disconnect, then connect), partition (through the proxy,
// over the validators: majorities-ring, halves, or isolate the target; then heal). Targets:
// leader, follower (a validator that does not lead), validator, exchange, agent, or a node id.
// A soak instead draws a fault every `every_min`..`every_max` for `soak` in all.

#include <cstdint>
#include <expected>
#include <string>
#include <utility>
#include <vector>

namespace mkt::marketctl {

enum class FaultKind { kill, pause, disconnect, partition };
enum class PartitionKind { majorities_ring, halves, isolate };

struct FaultStep {
  FaultKind kind = FaultKind::kill;
  std::string target = "leader";  // a role word or a node id; unused by ring and halves
  PartitionKind shape = PartitionKind::majorities_ring;
  std::int64_t duration_us = 4'000'000;
  int repeat = 1;
};

struct DrillPlan {
  std::uint64_t seed = 1;
  std::int64_t rest_us = 3'000'000;
  std::vector<FaultStep> steps;
  // A soak: faults drawn by the seed, one starting every every_min..every_max, for soak_us.
  std::int64_t soak_us = 0;
  std::int64_t every_min_us = 10'000'000;
  std::int64_t every_max_us = 20'000'000;
};

std::string_view to_string(FaultKind kind);
std::string_view to_string(PartitionKind kind);

// Parses a plan; errors name the file, the fault's place and what is wrong (an unknown fault,
// target or shape; a duration without a unit).
std::expected<DrillPlan, std::string> parse_plan(const std::string& yaml, const std::string& name);

// The plan in the form parse_plan reads, as a flow map on one line (a drill's record holds it
// under `plan:`, so that `marketctl drill --replay RECORD` runs the same drill again).
std::string format_plan(const DrillPlan& plan);

// "10s-20s" (or one duration, "15s"): a soak's interval between faults, in us (low, high).
std::expected<std::pair<std::int64_t, std::int64_t>, std::string> parse_interval(
    const std::string& text);

// An error when the plan asks for what this market cannot do (disconnect on local processes).
std::expected<void, std::string> check_plan(const DrillPlan& plan, bool containers);

// The faults of a soak, drawn by the seed: a kind and target from those the market allows, a
// duration of 2..8 s, and the time from one fault's start to the next.
struct SoakStep {
  FaultStep step;
  std::int64_t start_after_us = 0;  // since the soak began
};
std::vector<SoakStep> soak_schedule(const DrillPlan& plan, bool containers);

// A fault's target among `candidates` (already filtered by role), drawn by `draw`.
std::size_t pick(std::uint64_t draw, std::size_t candidates);

}  // namespace mkt::marketctl
