// The dashboard's folder: only names under it are files, whatever the target spells.
#include "assets.h"

#include <catch2/catch_test_macros.hpp>

using mkt::monitord::asset_path;

TEST_CASE("assets: a target names a file under the folder, or nothing") {
  CHECK(asset_path("/") == "index.html");
  CHECK(asset_path("/app.js") == "app.js");
  CHECK(asset_path("/lib/uPlot.iife.min.js?v=1") == "lib/uPlot.iife.min.js");
  for (const char* bad : {"", "app.js", "/../etc/passwd", "/lib/../../x", "/./app.js", "//etc",
                          "/lib//x", "/lib/", "/%2e%2e/x", "/a\\b", "/..", "/lib/.."}) {
    INFO(bad);
    CHECK_FALSE(asset_path(bad).has_value());
  }
}
