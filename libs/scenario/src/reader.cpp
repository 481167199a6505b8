#include "reader.h"

#include <algorithm>
#include <cctype>

#include "mkt/core/ids.h"

namespace mkt::scenario::detail {
namespace {

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// A scalar's text, or nullopt (with an error) for a mapping, sequence or null.
std::optional<std::string> scalar(Diagnostics& diagnostics, const YAML::Node& node,
                                  const std::string& path, std::string_view expected) {
  if (!node.IsScalar()) {
    diagnostics.error(node, path,
                      "expected " + std::string(expected) + ", got " +
                          (node.IsMap()        ? "a mapping"
                           : node.IsSequence() ? "a list"
                                               : "nothing"));
    return std::nullopt;
  }
  return node.Scalar();
}

}  // namespace

int line_of(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  return node.Mark().line + 1;
}

void Diagnostics::error(int line, std::string path, std::string message) {
  list_.push_back(Diagnostic{file_, line, std::move(path), std::move(message)});
}

LoadError Diagnostics::take() {
  std::stable_sort(list_.begin(), list_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
  if (list_.size() > errors_reported_max) {
    const auto more = list_.size() - errors_reported_max;
    list_.resize(errors_reported_max);
    list_.push_back(Diagnostic{file_, 0, "", "... and " + std::to_string(more) + " more errors"});
  }
  return LoadError{std::move(list_)};
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> split_pair(std::string_view key, char separator,
                                                              const std::set<std::string>& names) {
  std::optional<std::pair<std::string, std::string>> found;
  for (std::size_t i = key.find(separator); i != std::string_view::npos;
       i = key.find(separator, i + 1)) {
    std::string left(key.substr(0, i));
    std::string right(key.substr(i + 1));
    if (names.count(left) && names.count(right)) {
      if (found) return std::nullopt;  // ambiguous
      found.emplace(std::move(left), std::move(right));
    }
  }
  return found;
}

MapReader::MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path,
                     const std::vector<std::string_view>& allowed_keys)
    : diagnostics_(diagnostics), node_(node), path_(std::move(path)) {
  const std::string where = path_.empty() ? "the document" : path_;
  if (!node.IsMap()) {
    diagnostics_.error(node, path_, "expected a mapping for " + where);
    return;
  }
  valid_ = true;
  std::vector<std::string> allowed(allowed_keys.begin(), allowed_keys.end());
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      diagnostics_.error(entry.first, path_of(key), "key " + quoted(key) + " appears twice");
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      diagnostics_.error(
          entry.first, path_of(key),
          "unknown key " + quoted(key) + " (expected one of: " + one_of(allowed) + ")");
    }
  }
}

bool MapReader::has(std::string_view key) const {
  return valid_ && node_[std::string(key)].IsDefined();
}

std::string MapReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

YAML::Node MapReader::child(std::string_view key, bool required) const {
  if (!valid_) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node value = node_[std::string(key)];
  if (!value.IsDefined()) {
    if (required) diagnostics_.error(node_, path_of(key), "missing required field");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return value;
}

std::string MapReader::text(std::string_view key, std::string fallback, bool required) const {
  const YAML::Node value = child(key, required);
  if (!value.IsDefined()) return fallback;
  auto s = scalar(diagnostics_, value, path_of(key), "a string");
  return s ? *s : fallback;
}

std::optional<std::int64_t> MapReader::integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, bool required) const {
  const YAML::Node value = child(key, required);
  if (!value.IsDefined()) return std::nullopt;
  auto s = scalar(diagnostics_, value, path_of(key), "a whole number");
  if (!s) return std::nullopt;
  auto parsed = core::parse_scaled(*s, 0);
  if (!parsed) {
    diagnostics_.error(value, path_of(key), "expected a whole number, got " + quoted(*s));
    return std::nullopt;
  }
  if (*parsed < min || *parsed > max) {
    diagnostics_.error(value, path_of(key),
                       std::to_string(*parsed) + " is out of range (expected " +
                           std::to_string(min) + " to " + std::to_string(max) + ")");
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::int64_t> MapReader::scaled(std::string_view key, int scale, std::int64_t min,
                                              std::int64_t max, bool required) const {
  const YAML::Node value = child(key, required);
  if (!value.IsDefined()) return std::nullopt;
  return read_scaled(diagnostics_, value, path_of(key), scale, min, max);
}

std::optional<core::Decimal> MapReader::decimal(std::string_view key, bool required) const {
  const YAML::Node value = child(key, required);
  if (!value.IsDefined()) return std::nullopt;
  return read_decimal(diagnostics_, value, path_of(key));
}

bool MapReader::boolean(std::string_view key, bool fallback) const {
  const YAML::Node value = child(key);
  if (!value.IsDefined()) return fallback;
  return read_boolean(diagnostics_, value, path_of(key)).value_or(fallback);
}

std::optional<std::size_t> MapReader::choice(std::string_view key,
                                             const std::vector<std::string>& names,
                                             std::string_view what, bool required) const {
  const YAML::Node value = child(key, required);
  if (!value.IsDefined()) return std::nullopt;
  auto s = scalar(diagnostics_, value, path_of(key), "a name");
  if (!s) return std::nullopt;
  const std::string v = core::ascii_lower(*s);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == v) return i;
  }
  diagnostics_.error(value, path_of(key),
                     "unknown " + std::string(what) + " " + quoted(*s) +
                         " (expected one of: " + one_of(names) + ")");
  return std::nullopt;
}

std::vector<std::string> MapReader::text_list(std::string_view key, bool required) const {
  const YAML::Node value = child(key, required);
  std::vector<std::string> out;
  if (!value.IsDefined()) return out;
  if (!value.IsSequence()) {
    diagnostics_.error(value, path_of(key), "expected a list");
    return out;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string item_path = path_of(key) + "[" + std::to_string(i) + "]";
    if (auto s = scalar(diagnostics_, value[i], item_path, "a string")) out.push_back(*s);
  }
  return out;
}

std::optional<bool> read_boolean(Diagnostics& diagnostics, const YAML::Node& node,
                                 const std::string& path) {
  auto s = scalar(diagnostics, node, path, "true or false");
  if (!s) return std::nullopt;
  const std::string v = core::ascii_lower(*s);
  if (v == "true") return true;
  if (v == "false") return false;
  diagnostics.error(node, path, "expected true or false, got " + quoted(*s));
  return std::nullopt;
}

std::optional<core::Decimal> read_decimal(Diagnostics& diagnostics, const YAML::Node& node,
                                          const std::string& path) {
  auto s = scalar(diagnostics, node, path, "a number");
  if (!s) return std::nullopt;
  auto parsed = core::parse_decimal(*s);
  if (!parsed) {
    diagnostics.error(node, path, "expected a decimal number, got " + quoted(*s));
    return std::nullopt;
  }
  return *parsed;
}

std::optional<std::int64_t> read_scaled(Diagnostics& diagnostics, const YAML::Node& node,
                                        const std::string& path, int scale, std::int64_t min,
                                        std::int64_t max) {
  auto decimal = read_decimal(diagnostics, node, path);
  if (!decimal) return std::nullopt;
  auto value = core::to_scaled(*decimal, scale);
  if (!value) {
    diagnostics.error(node, path,
                      decimal->to_string() + " " + core::describe(value.error()) +
                          (value.error() == core::DecimalError::too_precise
                               ? " (at most " + std::to_string(scale) + ")"
                               : ""));
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    const auto lo = core::Decimal{min, scale}.normalized();
    const auto hi = core::Decimal{max, scale}.normalized();
    diagnostics.error(node, path,
                      decimal->to_string() + " is out of range (expected " + lo.to_string() +
                          " to " + hi.to_string() + ")");
    return std::nullopt;
  }
  return *value;
}

}  // namespace mkt::scenario::detail
