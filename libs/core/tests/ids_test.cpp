// Checks the shared naming rules for node ids and symbols on both sides of each limit.
#include "mkt/core/ids.h"

#include <catch2/catch_test_macros.hpp>
#include <string>

using mkt::core::is_valid_node_id;
using mkt::core::is_valid_symbol;

TEST_CASE("node ids") {
  CHECK(is_valid_node_id("ex_ny"));
  CHECK(is_valid_node_id("val-3"));
  CHECK(is_valid_node_id(std::string(64, 'a')));
  CHECK_FALSE(is_valid_node_id(std::string(65, 'a')));
  CHECK_FALSE(is_valid_node_id(""));
  CHECK_FALSE(is_valid_node_id("3val"));
  CHECK_FALSE(is_valid_node_id("Val"));
  CHECK_FALSE(is_valid_node_id("a b"));
  CHECK_FALSE(is_valid_node_id("a@b"));
}

TEST_CASE("symbols") {
  CHECK(is_valid_symbol("STOCK_A"));
  CHECK(is_valid_symbol("BRK.B"));
  CHECK_FALSE(is_valid_symbol("stock"));
  CHECK_FALSE(is_valid_symbol("_A"));
  CHECK_FALSE(is_valid_symbol(std::string(17, 'A')));
}

TEST_CASE("ascii_lower changes only ASCII capitals") {
  CHECK(mkt::core::ascii_lower("LocalHost:80") == "localhost:80");
  CHECK(mkt::core::ascii_lower("Ä-Z") == "Ä-z");
  CHECK(mkt::core::ascii_lower("") == "");
}
