#include "mkt/metrics/text.h"

#include <catch2/catch_test_macros.hpp>
#include <cmath>

using namespace mkt::metrics;

TEST_CASE("text: what a registry renders reads back, labels and histograms included") {
  Registry registry;
  registry.counter("orders_total", "Orders.", {{"side", "buy"}}).add(3);
  registry.gauge("depth", "Depth.", {{"venue", "a \"b\"\\c\nd"}}).set(-7);
  registry.histogram("delay_seconds", "Delay.", {1'000, 2'000}, 1e6).observe(1'500);
  const auto samples = parse_text(registry.render());
  REQUIRE(samples.has_value());
  const auto find = [&](std::string_view name) -> const Series* {
    for (const auto& s : *samples) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  REQUIRE(find("orders_total") != nullptr);
  CHECK(find("orders_total")->value == 3);
  CHECK(find("orders_total")->label("side") == "buy");
  REQUIRE(find("depth") != nullptr);
  CHECK(find("depth")->value == -7);
  CHECK(find("depth")->label("venue") == "a \"b\"\\c\nd");
  CHECK(find("delay_seconds_count")->value == 1);
  int buckets = 0;
  for (const auto& s : *samples) {
    if (s.name == "delay_seconds_bucket") {
      ++buckets;
      if (s.label("le") == "+Inf") CHECK(s.value == 1);
    }
  }
  CHECK(buckets == 3);
}

TEST_CASE("text: special values, timestamps, blank lines and comments") {
  const auto samples = parse_text(
      "# HELP x X.\n# TYPE x gauge\n\nx NaN\ny{} +Inf 1700000000\n"
      "z -Inf\r\nw 1.5e3\n");
  REQUIRE(samples.has_value());
  REQUIRE(samples->size() == 4);
  CHECK(std::isnan((*samples)[0].value));
  CHECK(std::isinf((*samples)[1].value));
  CHECK((*samples)[2].value < 0);
  CHECK((*samples)[3].value == 1500);
}

TEST_CASE("text: a malformed line refuses the whole scrape, naming the line") {
  CHECK(parse_text("a 1\nb{x=\"1} 2\n").error() == "line 2: unterminated value of label x");
  CHECK(parse_text("a 1\n\nc{x=1} 2\n").error() == "line 3: expected a quoted value for label x");
  CHECK(parse_text("9a 1\n").error() == "line 1: expected a metric name");
  CHECK(parse_text("a one\n").error() == "line 1: expected a value after a");
  CHECK(parse_text("a{x=\"\\t\"} 1\n").error() == "line 1: unknown escape \\t in label x");
  CHECK(parse_text("a 1\nb 2\nc 3\n", 2).error() == "more than 2 samples");
}
