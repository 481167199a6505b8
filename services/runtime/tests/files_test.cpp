// Small files: read whole up to a limit (a missing or larger file is a clear error), and written
// atomically (the new text replaces the old whole, and no temporary file is left).

#include "mkt/runtime/files.h"

#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <random>

TEST_CASE("read_file reads up to its limit and names the problem otherwise") {
  std::random_device seed;
  const auto dir =
      std::filesystem::temp_directory_path() / ("files-test-" + std::to_string(seed()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "f.txt").string();

  REQUIRE(mkt::runtime::write_file_atomically(path, "first"));
  REQUIRE(mkt::runtime::write_file_atomically(path, "second\n"));
  CHECK(mkt::runtime::read_file(path, 7) == "second\n");
  CHECK(mkt::runtime::read_file(path, 6).error() == path + ": the file is larger than 6 bytes");
  CHECK(mkt::runtime::read_file(path + ".nope", 10).error() ==
        path + ".nope: cannot open the file");
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  CHECK(mkt::runtime::write_file_atomically((dir / "no" / "such").string(), "x")
            .error()
            .starts_with("cannot write "));
  std::filesystem::remove_all(dir);
}
