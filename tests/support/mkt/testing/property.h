#pragma once
// RapidCheck inside Catch2 v3: Debian's rapidcheck ships an adapter for Catch2 v2 only.
// property("name", fn) runs the property (100 cases by default; RC_PARAMS="max_success=N" for more,
// "seed=S" to replay) and fails the Catch test case with RapidCheck's report on a counterexample.

#include <rapidcheck.h>

#include <algorithm>
#include <catch2/catch_test_macros.hpp>
#include <sstream>
#include <string>
#include <utility>

namespace mkt::testing {

// With `cases`, runs at least that many (RC_PARAMS may ask for more), for properties whose
// counterexamples are rare.
template <class Testable>
void property(const std::string& description, int cases, Testable&& testable) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = std::max(params.maxSuccess, cases);
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable),
                                                rc::detail::TestMetadata{}, params);
  if (result.template is<rc::detail::SuccessResult>()) {
    SUCCEED(description);
    return;
  }
  std::ostringstream report;
  rc::detail::printResultMessage(result, report);
  FAIL(description << "\n" << report.str());
}

template <class Testable>
void property(const std::string& description, Testable&& testable) {
  property(description, 0, std::forward<Testable>(testable));
}

}  // namespace mkt::testing
