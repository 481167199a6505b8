// Checks the JSON-lines log format: one object per line with time, level, node and an escaped
// message, so that log lines can be read by a machine whatever they contain.
#include "mkt/runtime/logging.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <catch2/catch_test_macros.hpp>
#include <regex>
#include <sstream>

TEST_CASE("json_escape escapes what JSON requires") {
  CHECK(mkt::runtime::json_escape("plain") == "plain");
  CHECK(mkt::runtime::json_escape("a \"quote\" and \\") == "a \\\"quote\\\" and \\\\");
  CHECK(mkt::runtime::json_escape("line\nnext\ttab\x01") == "line\\nnext\\ttab\\u0001");
}

TEST_CASE("the JSON formatter writes one object per line") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("test", sink);
  logger.set_formatter(mkt::runtime::make_json_formatter("ex-ny"));
  logger.warn("order {} \"rejected\"\nnext", 42);
  logger.flush();
  const std::string line = out.str();
  const std::regex shape(
      R"(\{"ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z","level":"warning","node":"ex-ny","msg":"order 42 \\"rejected\\"\\nnext"\}\n)");
  CHECK(std::regex_match(line, shape));
}
