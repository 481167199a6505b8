#pragma once
// Reading YAML into checked values, collecting diagnostics with their line instead of throwing.
// Internal to the scenario library: yaml-cpp does not appear in its public header.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mkt/core/decimal.h"
#include "mkt/scenario/scenario.h"

namespace mkt::scenario::detail {

// The line (1-based) of a node, or 0 for one that is not in the document.
int line_of(const YAML::Node& node);

// Collects diagnostics for one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(int line, std::string path, std::string message);
  void error(const YAML::Node& at, std::string path, std::string message) {
    error(line_of(at), std::move(path), std::move(message));
  }
  bool empty() const { return list_.empty(); }
  LoadError take();

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
};

// "a, b or c" for messages.
std::string one_of(const std::vector<std::string>& names);

// Splits "left<sep>right" where both sides are among `names` ("us_east_us_west" with separator
// '_'). Names may themselves contain the separator; the split must be unique.
std::optional<std::pair<std::string, std::string>> split_pair(std::string_view key, char separator,
                                                              const std::set<std::string>& names);

// A YAML mapping read field by field. Construction reports a node that is not a mapping, and keys
// that are unknown or repeated; each getter reports a missing required field or a bad value and
// then returns the default, so one pass finds every problem.
class MapReader {
 public:
  MapReader(Diagnostics& diagnostics, const YAML::Node& node, std::string path,
            const std::vector<std::string_view>& allowed_keys);

  bool valid() const { return valid_; }
  bool has(std::string_view key) const;
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const;
  int line() const { return line_of(node_); }
  Diagnostics& diagnostics() const { return diagnostics_; }

  // The child node, or an undefined node (and an error when required) if absent.
  YAML::Node child(std::string_view key, bool required = false) const;

  std::string text(std::string_view key, std::string fallback, bool required = false) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                      bool required = false) const;
  std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t min,
                          std::int64_t max) const {
    return integer(key, min, max).value_or(fallback);
  }
  // A decimal scaled to an integer: scaled("latency_ms", 3, ...) gives microseconds.
  std::optional<std::int64_t> scaled(std::string_view key, int scale, std::int64_t min,
                                     std::int64_t max, bool required = false) const;
  std::int64_t scaled_or(std::string_view key, int scale, std::int64_t fallback, std::int64_t min,
                         std::int64_t max) const {
    return scaled(key, scale, min, max).value_or(fallback);
  }
  std::optional<core::Decimal> decimal(std::string_view key, bool required = false) const;
  bool boolean(std::string_view key, bool fallback) const;
  // One of `names` (matched case-insensitively), as its index.
  std::optional<std::size_t> choice(std::string_view key, const std::vector<std::string>& names,
                                    std::string_view what, bool required = false) const;
  // One of a table's names, as its enum value.
  template <class E, std::size_t N>
  std::optional<E> choice(std::string_view key,
                          const core::EnumTable<E, std::string_view, N>& names,
                          std::string_view what, bool required = false) const {
    const auto index = choice(key, names.seconds(), what, required);
    if (!index) return std::nullopt;
    return names.rows[*index].first;
  }
  std::vector<std::string> text_list(std::string_view key, bool required = false) const;

 private:
  Diagnostics& diagnostics_;
  YAML::Node node_;
  std::string path_;
  bool valid_ = false;
};

// Reads true or false (any case), reporting where it fails.
std::optional<bool> read_boolean(Diagnostics& diagnostics, const YAML::Node& node,
                                 const std::string& path);
// Reads a scalar as a decimal, reporting where it fails.
std::optional<core::Decimal> read_decimal(Diagnostics& diagnostics, const YAML::Node& node,
                                          const std::string& path);
// Reads a scalar as a decimal scaled to an integer within [min, max].
std::optional<std::int64_t> read_scaled(Diagnostics& diagnostics, const YAML::Node& node,
                                        const std::string& path, int scale, std::int64_t min,
                                        std::int64_t max);

}  // namespace mkt::scenario::detail
