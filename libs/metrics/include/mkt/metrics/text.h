#pragma once
// Reading the Prometheus text exposition format (0.0.4) back: what a monitor scrapes from
// /metrics. Comments (# HELP, # TYPE) are skipped; each sample line is a name, optional labels in
// braces (values with \\, \" and \n escapes), a value (a decimal, NaN, +Inf or -Inf) and an
// optional timestamp, which is ignored. A malformed line is an error naming its line number: a
// scrape is taken whole or not at all.

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/metrics/registry.h"

namespace mkt::metrics {

struct Series {
  std::string name;
  Labels labels;  // in the order written
  double value = 0;

  // The label's value, or empty when it has none.
  std::string_view label(std::string_view key) const;
};

// At most `samples_max` samples (a process that floods its /metrics is refused, not followed).
std::expected<std::vector<Series>, std::string> parse_text(std::string_view text,
                                                           std::size_t samples_max = 100'000);

}  // namespace mkt::metrics
