#include "drill.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <tuple>

#include "mkt/core/enum_table.h"
#include "mkt/core/hash.h"
#include "units.h"

namespace mkt::marketctl {

namespace {

constexpr auto fault_names = core::enum_table<FaultKind, std::string_view>({
    {FaultKind::kill, "kill"},
    {FaultKind::pause, "pause"},
    {FaultKind::disconnect, "disconnect"},
    {FaultKind::partition, "partition"},
});

constexpr auto shape_names = core::enum_table<PartitionKind, std::string_view>({
    {PartitionKind::majorities_ring, "majorities-ring"},
    {PartitionKind::halves, "halves"},
    {PartitionKind::isolate, "isolate"},
});

std::string words(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

constexpr const char* role_targets[] = {"leader", "follower", "validator", "exchange", "agent"};

bool is_node_id(const std::string& text) {
  if (text.empty() || text.size() > 64 || text.front() < 'a' || text.front() > 'z') return false;
  for (const char c : text) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(FaultKind kind) {
  return core::name_in(fault_names, kind);
}
std::string_view to_string(PartitionKind kind) {
  return core::name_in(shape_names, kind);
}

std::expected<DrillPlan, std::string> parse_plan(const std::string& yaml, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return std::unexpected(name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return std::unexpected(name + ": a drill plan is a map (seed, rest, faults)");
  DrillPlan plan;
  const auto fail = [&](const YAML::Node& node, const std::string& where, const std::string& why) {
    return std::unexpected(name + ":" + std::to_string(node.Mark().line + 1) + ": " + where + ": " +
                           why);
  };
  const auto duration = [&](const YAML::Node& node, const std::string& where,
                            std::int64_t& out) -> std::expected<void, std::string> {
    if (!node) return {};
    auto us = parse_duration_us(node.as<std::string>());
    if (!us) return fail(node, where, us.error());
    if (*us <= 0) return fail(node, where, "must be above 0");
    out = *us;
    return {};
  };
  for (const auto& entry : root) {
    const auto key = entry.first.as<std::string>();
    if (key != "seed" && key != "rest" && key != "faults" && key != "soak" && key != "every") {
      return fail(entry.first, key, "unknown key (seed, rest, faults, soak, every)");
    }
  }
  try {
    if (root["seed"]) plan.seed = root["seed"].as<std::uint64_t>();
  } catch (const YAML::Exception&) {
    return fail(root["seed"], "seed", "not a whole number");
  }
  if (auto ok = duration(root["rest"], "rest", plan.rest_us); !ok)
    return std::unexpected(ok.error());
  if (auto ok = duration(root["soak"], "soak", plan.soak_us); !ok)
    return std::unexpected(ok.error());
  if (const auto every = root["every"]) {
    auto interval = parse_interval(every.as<std::string>());
    if (!interval) return fail(every, "every", interval.error());
    std::tie(plan.every_min_us, plan.every_max_us) = *interval;
  }
  const auto faults = root["faults"];
  if (faults && !faults.IsSequence()) return fail(faults, "faults", "a list of faults");
  for (std::size_t i = 0; faults && i < faults.size(); ++i) {
    const auto f = faults[i];
    const std::string where = "faults[" + std::to_string(i) + "]";
    if (!f.IsMap() || !f["fault"]) return fail(f, where, "each fault is a map with `fault:`");
    FaultStep step;
    const auto kind = fault_names.first_of(f["fault"].as<std::string>());
    if (!kind) {
      return fail(f["fault"], where + ".fault",
                  "unknown fault '" + f["fault"].as<std::string>() + "' (" +
                      words(fault_names.seconds()) + ")");
    }
    step.kind = *kind;
    for (const auto& field : f) {
      const auto key = field.first.as<std::string>();
      if (key != "fault" && key != "target" && key != "shape" && key != "duration" &&
          key != "repeat") {
        return fail(field.first, where,
                    "unknown key '" + key + "' (target, shape, duration, repeat)");
      }
    }
    if (f["shape"]) {
      if (step.kind != FaultKind::partition) {
        return fail(f["shape"], where + ".shape", "only a partition has a shape");
      }
      const auto shape = shape_names.first_of(f["shape"].as<std::string>());
      if (!shape) {
        return fail(f["shape"], where + ".shape",
                    "unknown shape '" + f["shape"].as<std::string>() + "' (" +
                        words(shape_names.seconds()) + ")");
      }
      step.shape = *shape;
    }
    if (f["target"]) {
      step.target = f["target"].as<std::string>();
      const bool role = std::find(std::begin(role_targets), std::end(role_targets), step.target) !=
                        std::end(role_targets);
      if (!role && !is_node_id(step.target)) {
        return fail(f["target"], where + ".target",
                    "'" + step.target +
                        "' is neither a node id nor leader, follower, validator, exchange, agent");
      }
    }
    if (auto ok = duration(f["duration"], where + ".duration", step.duration_us); !ok) {
      return std::unexpected(ok.error());
    }
    if (f["repeat"]) {
      try {
        step.repeat = f["repeat"].as<int>();
      } catch (const YAML::Exception&) {
        step.repeat = 0;
      }
      if (step.repeat < 1 || step.repeat > 1000) {
        return fail(f["repeat"], where + ".repeat", "a whole number from 1 to 1000");
      }
    }
    plan.steps.push_back(step);
  }
  if (plan.steps.empty() && plan.soak_us == 0) {
    return std::unexpected(name + ": the plan has no faults and no soak");
  }
  return plan;
}

std::expected<std::pair<std::int64_t, std::int64_t>, std::string> parse_interval(
    const std::string& text) {
  const auto dash = text.find('-');
  auto low = parse_duration_us(text.substr(0, dash));
  auto high = dash == std::string::npos ? low : parse_duration_us(text.substr(dash + 1));
  if (!low || !high || *low <= 0 || *high < *low) {
    return std::unexpected("'" + text + "' is not a duration or a range (as in 10s-20s)");
  }
  return std::pair{*low, *high};
}

std::string format_plan(const DrillPlan& plan) {
  const auto us = [](std::int64_t value) { return std::to_string(value) + "us"; };
  std::string out = "{seed: " + std::to_string(plan.seed) + ", rest: " + us(plan.rest_us);
  if (plan.soak_us > 0) {
    out += ", soak: " + us(plan.soak_us) + ", every: " + us(plan.every_min_us) + "-" +
           us(plan.every_max_us);
  }
  out += ", faults: [";
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const auto& step = plan.steps[i];
    out += std::string(i ? ", " : "") + "{fault: " + std::string(to_string(step.kind)) +
           ", target: " + step.target;
    if (step.kind == FaultKind::partition) out += ", shape: " + std::string(to_string(step.shape));
    out += ", duration: " + us(step.duration_us) + ", repeat: " + std::to_string(step.repeat) + "}";
  }
  return out + "]}";
}

std::expected<void, std::string> check_plan(const DrillPlan& plan, bool containers) {
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (plan.steps[i].kind == FaultKind::disconnect && !containers) {
      return std::unexpected("faults[" + std::to_string(i) +
                             "]: disconnect needs a compose market (--compose); local processes "
                             "share one network");
    }
  }
  return {};
}

std::size_t pick(std::uint64_t draw, std::size_t candidates) {
  return candidates == 0 ? 0 : static_cast<std::size_t>(draw % candidates);
}

std::vector<SoakStep> soak_schedule(const DrillPlan& plan, bool containers) {
  // What a soak draws from: each fault on the roles where it teaches something.
  std::vector<FaultStep> menu = {
      {.kind = FaultKind::kill, .target = "leader"},
      {.kind = FaultKind::kill, .target = "follower"},
      {.kind = FaultKind::kill, .target = "exchange"},
      {.kind = FaultKind::pause, .target = "follower"},
      {.kind = FaultKind::pause, .target = "leader"},
      {.kind = FaultKind::partition,
       .target = "validator",
       .shape = PartitionKind::majorities_ring},
      {.kind = FaultKind::partition, .target = "leader", .shape = PartitionKind::isolate},
  };
  if (containers) menu.push_back({.kind = FaultKind::disconnect, .target = "leader"});
  std::uint64_t state = plan.seed;
  std::vector<SoakStep> steps;
  for (std::int64_t at = 0; at < plan.soak_us;) {
    SoakStep s;
    s.step = menu[pick(core::splitmix64(state), menu.size())];
    s.step.duration_us = 2'000'000 + static_cast<std::int64_t>(core::splitmix64(state) % 6'000'001);
    s.start_after_us = at;
    steps.push_back(s);
    const auto span = static_cast<std::uint64_t>(plan.every_max_us - plan.every_min_us);
    at += plan.every_min_us +
          static_cast<std::int64_t>(span ? core::splitmix64(state) % (span + 1) : 0);
  }
  return steps;
}

}  // namespace mkt::marketctl
