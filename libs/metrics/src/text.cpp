#include "mkt/metrics/text.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace mkt::metrics {
namespace {

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

// Reads a name at `at`; empty when there is none.
std::string_view read_name(std::string_view line, std::size_t& at) {
  const std::size_t start = at;
  if (at < line.size() && name_start(line[at])) {
    ++at;
    while (at < line.size() && name_char(line[at])) ++at;
  }
  return line.substr(start, at - start);
}

void skip_blanks(std::string_view line, std::size_t& at) {
  while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
}

// The labels after '{', up to and including '}'; an error message when malformed.
std::string read_labels(std::string_view line, std::size_t& at, Labels& labels) {
  ++at;  // '{'
  for (;;) {
    skip_blanks(line, at);
    if (at < line.size() && line[at] == '}') {
      ++at;
      return {};
    }
    const auto key = read_name(line, at);
    if (key.empty()) return "expected a label name";
    skip_blanks(line, at);
    if (at >= line.size() || line[at] != '=') return "expected '=' after label " + std::string(key);
    ++at;
    skip_blanks(line, at);
    if (at >= line.size() || line[at] != '"')
      return "expected a quoted value for label " + std::string(key);
    ++at;
    std::string value;
    for (;;) {
      if (at >= line.size()) return "unterminated value of label " + std::string(key);
      const char c = line[at++];
      if (c == '"') break;
      if (c != '\\') {
        value += c;
        continue;
      }
      if (at >= line.size()) return "unterminated value of label " + std::string(key);
      const char e = line[at++];
      if (e == 'n') {
        value += '\n';
      } else if (e == '\\' || e == '"') {
        value += e;
      } else {
        return std::string("unknown escape \\") + e + " in label " + std::string(key);
      }
    }
    labels.emplace_back(key, std::move(value));
    skip_blanks(line, at);
    if (at < line.size() && line[at] == ',') ++at;
  }
}

bool read_value(std::string_view word, double& value) {
  if (word == "NaN") {
    value = std::numeric_limits<double>::quiet_NaN();
  } else if (word == "+Inf" || word == "Inf") {
    value = std::numeric_limits<double>::infinity();
  } else if (word == "-Inf") {
    value = -std::numeric_limits<double>::infinity();
  } else {
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    return ec == std::errc{} && end == word.data() + word.size();
  }
  return true;
}

}  // namespace

std::string_view Series::label(std::string_view key) const {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

std::expected<std::vector<Series>, std::string> parse_text(std::string_view text,
                                                           std::size_t samples_max) {
  std::vector<Series> out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t at = 0;
    skip_blanks(line, at);
    if (at == line.size() || line[at] == '#') continue;
    const auto fail = [&](const std::string& why) {
      return std::unexpected("line " + std::to_string(line_number) + ": " + why);
    };
    Series sample;
    sample.name = read_name(line, at);
    if (sample.name.empty()) return fail("expected a metric name");
    if (at < line.size() && line[at] == '{') {
      if (auto error = read_labels(line, at, sample.labels); !error.empty()) return fail(error);
    }
    skip_blanks(line, at);
    const std::size_t value_end = std::min(line.find_first_of(" \t", at), line.size());
    if (!read_value(line.substr(at, value_end - at), sample.value)) {
      return fail("expected a value after " + sample.name);
    }
    if (out.size() >= samples_max) {
      return std::unexpected("more than " + std::to_string(samples_max) + " samples");
    }
    out.push_back(std::move(sample));
  }
  return out;
}

}  // namespace mkt::metrics
