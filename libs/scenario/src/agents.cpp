// Agents: strategies and the schema of each strategy's parameters.
#include <algorithm>
#include <map>

#include "sections.h"

namespace mkt::scenario::detail {
namespace {

enum class Kind {
  integer,
  decimal,
  fraction,
  boolean,
  duration_ms,
  duration_s,
  strategy_list,
  text
};

struct Field {
  std::string name;
  Kind kind;
  std::vector<std::string> choices = {};  // text: allowed values
};

// Parameters every strategy accepts (reaction_time_ms is lifted into AgentSpec).
const std::vector<Field> common_fields = {
    {"reaction_time_ms", Kind::duration_ms},
    {"information_sharing", Kind::boolean},
};

// The strategies and their parameters. The keys of the Python prototype's reference file are kept,
// so its agent_types convert as they are.
const std::map<std::string, std::vector<Field>>& schemas() {
  static const std::map<std::string, std::vector<Field>> table = {
      {"noise",
       {{"order_interval_ms", Kind::duration_ms},
        {"quantity_lots_max", Kind::integer},
        {"price_range_ticks", Kind::integer}}},
      {"value",
       {{"order_interval_ms", Kind::duration_ms},
        {"quantity_lots_max", Kind::integer},
        {"observation_noise", Kind::decimal},
        {"mean_reversion_rate", Kind::fraction}}},
      {"market_maker",
       {{"spread_ticks", Kind::integer},
        {"quote_quantity_lots", Kind::integer},
        {"risk_aversion", Kind::decimal},
        {"refresh_ms", Kind::duration_ms},
        {"position_limit_lots", Kind::integer}}},
      {"momentum",
       {{"confidence_threshold", Kind::fraction},
        {"momentum_window", Kind::integer},
        {"momentum_threshold", Kind::fraction},
        {"quantity_lots", Kind::integer},
        {"sample_interval_ms", Kind::duration_ms}}},
      {"mean_reversion",
       {{"confidence_threshold", Kind::fraction},
        {"window", Kind::integer},
        {"threshold", Kind::fraction},
        {"quantity_lots", Kind::integer},
        {"sample_interval_ms", Kind::duration_ms}}},
      {"arbitrage",
       {{"min_profit_threshold", Kind::fraction},
        {"max_holding_time", Kind::duration_s},
        {"quantity_lots", Kind::integer},
        {"fee_ticks", Kind::integer}}},
      {"information_broker",
       {{"information_value", Kind::decimal},
        {"quality_threshold", Kind::fraction},
        {"subscribers_max", Kind::integer}}},
      {"coordinated",
       {{"coordination_threshold", Kind::fraction},
        {"max_coordination_group", Kind::integer},
        {"proposal_timeout_ms", Kind::duration_ms},
        {"decision_interval_ms", Kind::duration_ms},
        {"quantity_lots", Kind::integer},
        {"observation_noise", Kind::decimal}}},
      // An agent that the user runs and attaches (its account, key and links exist; nothing is
      // started for it).
      {"external", {}},
      {"adaptive",
       {{"strategies", Kind::strategy_list},
        {"algorithm", Kind::text, {"ucb1", "exp3"}},
        {"exploration", Kind::decimal},
        {"episode_ms", Kind::duration_ms},
        {"reward_scale", Kind::decimal}}},
  };
  return table;
}

std::optional<Param> read_param(Diagnostics& d, const YAML::Node& node, const std::string& path,
                                const Field& field) {
  Param p;
  switch (field.kind) {
    case Kind::integer: {
      p.type = Param::Type::integer;
      auto v = read_scaled(d, node, path, 0, 0, 1'000'000'000'000);
      if (!v) return std::nullopt;
      p.integer = *v;
      return p;
    }
    case Kind::decimal:
    case Kind::fraction: {
      p.type = Param::Type::decimal;
      auto v = read_decimal(d, node, path);
      if (!v) return std::nullopt;
      const auto one = core::to_scaled({1, 0}, v->scale);  // 1 at the value's own scale
      const bool in_unit = v->mantissa >= 0 && one && v->mantissa <= *one;
      if (field.kind == Kind::fraction && !in_unit) {
        d.error(node, path, v->to_string() + " is out of range (expected 0 to 1)");
        return std::nullopt;
      }
      p.decimal = *v;
      return p;
    }
    case Kind::boolean: {
      p.type = Param::Type::boolean;
      const auto value = read_boolean(d, node, path);
      if (!value) return std::nullopt;
      p.boolean = *value;
      return p;
    }
    case Kind::duration_ms:
    case Kind::duration_s: {
      p.type = Param::Type::duration;
      const int scale = field.kind == Kind::duration_ms ? 3 : 6;  // to microseconds
      auto v = read_scaled(d, node, path, scale, 0, duration_ms_max * 1000);
      if (!v) return std::nullopt;
      p.integer = *v;
      return p;
    }
    case Kind::text: {
      p.type = Param::Type::text;
      p.text = node.IsScalar() ? node.Scalar() : "";
      if (std::find(field.choices.begin(), field.choices.end(), p.text) == field.choices.end()) {
        d.error(node, path,
                "unknown value '" + p.text + "' (expected one of: " + one_of(field.choices) + ")");
        return std::nullopt;
      }
      return p;
    }
    case Kind::strategy_list: {
      p.type = Param::Type::list;
      if (!node.IsSequence() || node.size() == 0) {
        d.error(node, path, "expected a non-empty list of strategies");
        return std::nullopt;
      }
      for (std::size_t i = 0; i < node.size(); ++i) {
        const std::string s = node[i].IsScalar() ? node[i].Scalar() : "";
        const auto& names = strategy_names();
        if (s == "adaptive" || s == "external" ||
            std::find(names.begin(), names.end(), s) == names.end()) {
          d.error(node[i], path + "[" + std::to_string(i) + "]",
                  "unknown strategy '" + s + "' (an adaptive agent chooses among the others)");
          return std::nullopt;
        }
        p.list.push_back(s);
      }
      return p;
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, fields] : schemas()) out.push_back(name);
    return out;
  }();
  return names;
}

AgentSpec read_agent_spec(const MapReader& map, const std::string& strategy) {
  Diagnostics& d = map.diagnostics();
  AgentSpec spec;
  spec.strategy = strategy;
  const auto balance = map.decimal("initial_balance");
  if (balance) {
    auto cents = core::to_scaled(*balance, 2);
    if (!cents || *cents < 0) {
      d.error(map.child("initial_balance"), map.path_of("initial_balance"),
              "expected a non-negative amount with at most 2 decimal places");
    } else {
      spec.initial_balance_cents = *cents;
    }
  }
  spec.venues = map.text_list("venues");
  if (map.has("network_config")) {
    MapReader net(d, map.child("network_config"), map.path_of("network_config"),
                  {"latency_ms", "latency_distribution", "latency_params", "bandwidth_kbps",
                   "packet_loss_rate"});
    if (net.valid()) spec.access_link = read_link_spec(net, false);
  }
  const auto found = schemas().find(strategy);
  if (found == schemas().end() || !map.has("strategy_config")) return spec;
  std::vector<Field> fields = common_fields;
  fields.insert(fields.end(), found->second.begin(), found->second.end());
  const YAML::Node config = map.child("strategy_config");
  const std::string path = map.path_of("strategy_config");
  if (!config.IsMap()) {
    d.error(config, path, "expected a mapping of parameters");
    return spec;
  }
  std::vector<std::string> allowed;
  for (const auto& f : fields) allowed.push_back(f.name);
  for (const auto& entry : config) {
    const std::string key = entry.first.Scalar();
    const auto field =
        std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == key; });
    if (field == fields.end()) {
      d.error(entry.first, path + "." + key,
              "unknown parameter '" + key + "' for strategy " + strategy +
                  " (expected one of: " + one_of(allowed) + ")");
      continue;
    }
    if (spec.params.count(key)) {
      d.error(entry.first, path + "." + key, "key '" + key + "' appears twice");
      continue;
    }
    auto param = read_param(d, entry.second, path + "." + key, *field);
    if (!param) continue;
    if (key == "reaction_time_ms") spec.reaction_time_us = param->integer;
    spec.params.emplace(key, std::move(*param));
  }
  return spec;
}

}  // namespace mkt::scenario::detail
