#pragma once
// Logging through spdlog: human text by default, JSON lines (one object per line) with
// --log-format json, every line tagged with the node id.

#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class formatter;
}

namespace mkt::runtime {

enum class LogFormat { text, json };

// Sets the default logger: stderr, the given format and level ("trace" .. "error"), and node id.
void setup_logging(LogFormat format, std::string_view level, std::string_view node_id);

// The JSON-lines formatter, exposed for tests:
// {"ts":"2026-11-24T14:00:00.123456Z","level":"info","node":"ex-ny","msg":"..."}
std::unique_ptr<spdlog::formatter> make_json_formatter(std::string node_id);

// Escapes a string for a JSON string literal (quotes, backslashes, control characters).
std::string json_escape(std::string_view text);

}  // namespace mkt::runtime
