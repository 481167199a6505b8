#include "mkt/monitor/alerts.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::monitor;

namespace {

constexpr std::int64_t s = 1'000'000'000;
const std::vector<std::string_view> rules{"latency"};

Check latency(double value, double threshold = 100) {
  return {.rule = "latency",
          .subject = "a>b",
          .severity = Severity::warning,
          .verdict = compare(value, threshold, true, 0.1),
          .value = value,
          .threshold = threshold,
          .evidence = "delay " + std::to_string(static_cast<int>(value))};
}

Hysteresis quick() {
  return {.raise_after_ns = 2 * s, .clear_after_ns = 3 * s, .band = 0.1, .event_hold_ns = 5 * s};
}

}  // namespace

TEST_CASE("compare: above the threshold is a breach, below the band clear, between holds") {
  CHECK(compare(101, 100, true, 0.1) == Verdict::breach);
  CHECK(compare(100, 100, true, 0.1) == Verdict::hold);
  CHECK(compare(91, 100, true, 0.1) == Verdict::hold);
  CHECK(compare(89, 100, true, 0.1) == Verdict::clear);
  // A lower threshold mirrors it.
  CHECK(compare(99, 100, false, 0.1) == Verdict::breach);
  CHECK(compare(105, 100, false, 0.1) == Verdict::hold);
  CHECK(compare(111, 100, false, 0.1) == Verdict::clear);
}

TEST_CASE("alert book: a breach is raised after raise_after, with its start and evidence") {
  AlertBook book(quick());
  CHECK(book.apply({latency(150)}, rules, 10 * s).empty());
  CHECK(book.apply({latency(160)}, rules, 11 * s).empty());
  const auto changes = book.apply({latency(140)}, rules, 12 * s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == AlertChange::Kind::raised);
  const Alert& a = changes[0].alert;
  CHECK(a.rule == "latency");
  CHECK(a.subject == "a>b");
  CHECK(a.severity == Severity::warning);
  CHECK(a.started_ns == 10 * s);
  CHECK(a.raised_ns == 12 * s);
  CHECK(a.active());
  CHECK(a.evidence == "delay 140");
  REQUIRE(book.active().size() == 1);
  // Further breaches update it, keeping the worst value.
  CHECK(book.apply({latency(120)}, rules, 13 * s).empty());
  CHECK(book.active()[0].peak == 160);
  CHECK(book.active()[0].value == 120);
  CHECK(book.active()[0].evidence == "delay 120");
}

TEST_CASE("alert book: a breach that ends before raise_after raises nothing") {
  AlertBook book(quick());
  CHECK(book.apply({latency(150)}, rules, 0).empty());
  CHECK(book.apply({latency(50)}, rules, 1 * s).empty());
  CHECK(book.apply({latency(150)}, rules, 2 * s).empty());  // a new episode starts here
  CHECK(book.apply({latency(150)}, rules, 3 * s).empty());
  CHECK(book.apply({latency(150)}, rules, 4 * s).size() == 1);
}

TEST_CASE("alert book: resolved after clear_after of clear verdicts, then kept in the history") {
  AlertBook book(quick());
  book.apply({latency(150)}, rules, 0);
  REQUIRE(book.apply({latency(150)}, rules, 2 * s).size() == 1);
  CHECK(book.apply({latency(50)}, rules, 3 * s).empty());
  CHECK(book.apply({latency(50)}, rules, 5 * s).empty());
  const auto changes = book.apply({latency(50)}, rules, 6 * s);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == AlertChange::Kind::resolved);
  CHECK(changes[0].alert.ended_ns == 6 * s);
  CHECK(book.active().empty());
  REQUIRE(book.history().size() == 1);
  CHECK(book.history()[0].started_ns == 0);
  CHECK(book.history()[0].peak == 150);
}

TEST_CASE("alert book: noise at the threshold neither raises twice nor resolves") {
  AlertBook book(quick());
  book.apply({latency(150)}, rules, 0);
  REQUIRE(book.apply({latency(150)}, rules, 2 * s).size() == 1);
  // Wobbling around 100, inside the band and just above it, for a minute: one alert throughout.
  for (int i = 0; i < 60; ++i) {
    const double value = i % 2 == 0 ? 101 : 95;
    CHECK(book.apply({latency(value)}, rules, (3 + i) * s).empty());
  }
  CHECK(book.active().size() == 1);
  CHECK(book.history().empty());
}

TEST_CASE("alert book: a brief dip below the band does not resolve it") {
  AlertBook book(quick());
  book.apply({latency(150)}, rules, 0);
  book.apply({latency(150)}, rules, 2 * s);
  for (int i = 0; i < 20; ++i) {
    // Clear for 2 s of every 3: never clear_after in a row.
    const double value = i % 3 == 2 ? 150 : 50;
    CHECK(book.apply({latency(value)}, rules, (3 + i) * s).empty());
  }
  CHECK(book.active().size() == 1);
}

TEST_CASE("alert book: a subject that is no longer observed counts as clear") {
  AlertBook book(quick());
  book.apply({latency(150)}, rules, 0);
  REQUIRE(book.apply({latency(150)}, rules, 2 * s).size() == 1);
  // A rule that did not run leaves it alone.
  CHECK(book.apply({}, {}, 10 * s).empty());
  CHECK(book.active().size() == 1);
  CHECK(book.apply({}, rules, 11 * s).empty());
  CHECK(book.apply({}, rules, 14 * s).size() == 1);
  CHECK(book.active().empty());
}

TEST_CASE("alert book: events raise at once, fold together and resolve after the hold") {
  AlertBook book(quick());
  const Check change{.rule = "leader_change",
                     .subject = "consensus",
                     .severity = Severity::info,
                     .verdict = Verdict::breach,
                     .value = 2,
                     .threshold = 0,
                     .evidence = "v2 leads"};
  REQUIRE(book.event(change, 1 * s).size() == 1);
  CHECK(book.event(change, 3 * s).empty());
  CHECK(book.active()[0].count == 2);
  CHECK(book.expire(7 * s).empty());  // 4 s after the last
  const auto resolved = book.expire(8 * s);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].alert.started_ns == 1 * s);
  CHECK(resolved[0].alert.count == 2);
  // apply() does not resolve an event as unobserved.
  REQUIRE(book.event(change, 9 * s).size() == 1);
  CHECK(book.apply({}, {"leader_change"}, 20 * s).empty());
  CHECK(book.active().size() == 1);
}

TEST_CASE("alert book: the history keeps the most recent resolved alerts only") {
  AlertBook book({.raise_after_ns = 0, .clear_after_ns = 0, .band = 0.1, .event_hold_ns = 0}, 3);
  for (int i = 0; i < 10; ++i) {
    book.apply({latency(150)}, rules, (2 * i) * s);
    book.apply({latency(50)}, rules, (2 * i + 1) * s);
  }
  REQUIRE(book.history().size() == 3);
  CHECK(book.history().front().id == 8);
  CHECK(book.history().back().id == 10);
}
