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
  // A file larger than the read buffer's first chunk reads whole, and a limit far above the size
  // costs nothing (it is not allocated).
  const std::string big(200'000, 'x');
  REQUIRE(mkt::runtime::write_file_atomically(path, big));
  CHECK(mkt::runtime::read_file(path, std::size_t{1} << 40) == big);
  // A secret is written with its own mode, and keeps it over an earlier file.
  const std::string secret = (dir / "keys").string();
  REQUIRE(mkt::runtime::write_file_atomically(secret, "k", 0600));
  CHECK((std::filesystem::status(secret).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  std::filesystem::remove_all(dir);
}
