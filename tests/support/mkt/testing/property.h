#pragma once
// RapidCheck inside Catch2 v3: Debian's rapidcheck ships an adapter for Catch2 v2 only.
// property("name", fn) runs the property (100 cases by default; RC_PARAMS="max_success=N" for more,
// "seed=S" to replay) and fails the Catch test case with RapidCheck's report on a counterexample.

#include <rapidcheck.h>

#include <catch2/catch_test_macros.hpp>
#include <sstream>
#include <string>
#include <utility>

namespace mkt::testing {

template <class Testable>
void property(const std::string& description, Testable&& testable) {
  const auto result = rc::detail::checkTestable(std::forward<Testable>(testable));
  if (result.template is<rc::detail::SuccessResult>()) {
    SUCCEED(description);
    return;
  }
  std::ostringstream report;
  rc::detail::printResultMessage(result, report);
  FAIL(description << "\n" << report.str());
}

}  // namespace mkt::testing
