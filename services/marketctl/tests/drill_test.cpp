// The drill plan: parsing (and its errors), what a market allows, and the soak's schedule drawn
// by the seed.
#include "drill.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::marketctl;

TEST_CASE("drill: a plan names faults, targets, shapes, durations and repeats") {
  const auto plan = parse_plan(R"(seed: 9
rest: 2s
faults:
  - {fault: kill, target: leader, duration: 4s, repeat: 3}
  - {fault: pause, target: follower, duration: 500ms}
  - {fault: disconnect, target: val-1}
  - {fault: partition, shape: majorities-ring, duration: 5s}
  - {fault: partition, shape: isolate, target: leader}
)",
                               "p.yaml");
  REQUIRE(plan);
  CHECK(plan->seed == 9);
  CHECK(plan->rest_us == 2'000'000);
  REQUIRE(plan->steps.size() == 5);
  CHECK(plan->steps[0].kind == FaultKind::kill);
  CHECK(plan->steps[0].repeat == 3);
  CHECK(plan->steps[0].duration_us == 4'000'000);
  CHECK(plan->steps[1].target == "follower");
  CHECK(plan->steps[1].duration_us == 500'000);
  CHECK(plan->steps[2].target == "val-1");
  CHECK(plan->steps[3].shape == PartitionKind::majorities_ring);
  CHECK(plan->steps[4].shape == PartitionKind::isolate);
}

TEST_CASE("drill: a bad plan is one line naming the place and what is wrong") {
  const auto error = [](const std::string& yaml) {
    const auto plan = parse_plan(yaml, "p.yaml");
    REQUIRE(!plan);
    return plan.error();
  };
  CHECK(error("faults:\n  - {fault: kil}\n") ==
        "p.yaml:2: faults[0].fault: unknown fault 'kil' (kill, pause, disconnect, partition)");
  CHECK(error("faults:\n  - {fault: partition, shape: star}\n")
            .find("faults[0].shape: unknown shape 'star' (majorities-ring, halves, isolate)") !=
        std::string::npos);
  CHECK(error("faults:\n  - {fault: kill, shape: halves}\n").find("only a partition has a shape") !=
        std::string::npos);
  CHECK(error("faults:\n  - {fault: kill, target: The-Leader}\n").find("neither a node id") !=
        std::string::npos);
  CHECK(error("faults:\n  - {fault: kill, duration: 4}\n").find("faults[0].duration") !=
        std::string::npos);
  CHECK(error("faults:\n  - {fault: kill, repeat: 0}\n").find("faults[0].repeat") !=
        std::string::npos);
  CHECK(error("faults:\n  - {fault: kill, tagret: leader}\n").find("unknown key 'tagret'") !=
        std::string::npos);
  CHECK(error("seed: 1\n") == "p.yaml: the plan has no faults and no soak");
  CHECK(error("fautls: []\n").find("unknown key") != std::string::npos);
}

TEST_CASE("drill: disconnecting needs containers") {
  const auto plan = parse_plan("faults:\n  - {fault: disconnect}\n", "p.yaml");
  REQUIRE(plan);
  CHECK(check_plan(*plan, true));
  CHECK(!check_plan(*plan, false));
}

TEST_CASE("drill: a soak draws the same faults from the same seed, one every 10-20 s") {
  auto plan = parse_plan("seed: 3\nsoak: 10m\nevery: 10s-20s\n", "p.yaml");
  REQUIRE(plan);
  const auto a = soak_schedule(*plan, false);
  const auto b = soak_schedule(*plan, false);
  REQUIRE(a.size() == b.size());
  CHECK(a.size() >= 30);  // 600 s at 10..20 s
  CHECK(a.size() <= 60);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].step.kind == b[i].step.kind);
    CHECK(a[i].step.target == b[i].step.target);
    CHECK(a[i].start_after_us == b[i].start_after_us);
    CHECK(a[i].step.kind != FaultKind::disconnect);  // not on processes
    CHECK(a[i].step.duration_us >= 2'000'000);
    CHECK(a[i].step.duration_us <= 8'000'000);
    if (i > 0) {
      const auto gap = a[i].start_after_us - a[i - 1].start_after_us;
      CHECK(gap >= 10'000'000);
      CHECK(gap <= 20'000'000);
    }
  }
  plan->seed = 4;
  const auto c = soak_schedule(*plan, true);
  bool differs = c.size() != a.size();
  for (std::size_t i = 0; !differs && i < a.size(); ++i) {
    differs = c[i].step.kind != a[i].step.kind || c[i].step.target != a[i].step.target;
  }
  CHECK(differs);
}

TEST_CASE("drill: a plan written as a record holds it reads back the same") {
  const auto plan = parse_plan(R"(seed: 5
rest: 1500ms
soak: 2m
every: 10s-20s
faults:
  - {fault: kill, target: leader, duration: 4s, repeat: 3}
  - {fault: partition, shape: halves, duration: 2s}
  - {fault: pause, target: ex-a}
)",
                               "p.yaml");
  REQUIRE(plan);
  const auto again = parse_plan("plan: " + format_plan(*plan) + "\n", "r.yaml");
  REQUIRE(!again);  // a record is not a plan: the plan is under its `plan:` key
  const auto back = parse_plan(format_plan(*plan), "r.yaml");
  REQUIRE(back);
  CHECK(format_plan(*back) == format_plan(*plan));
  CHECK(back->seed == 5);
  CHECK(back->rest_us == 1'500'000);
  CHECK(back->soak_us == 120'000'000);
  CHECK(back->every_min_us == 10'000'000);
  REQUIRE(back->steps.size() == 3);
  CHECK(back->steps[0].repeat == 3);
  CHECK(back->steps[1].shape == PartitionKind::halves);
  CHECK(back->steps[2].target == "ex-a");
  CHECK(soak_schedule(*back, false).size() == soak_schedule(*plan, false).size());
}
