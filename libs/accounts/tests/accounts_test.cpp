// The accounts file's format: comments, blank lines, one account per line, and errors that name
// the file and line of the first bad one.
#include "mkt/accounts/accounts.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::accounts;

TEST_CASE("accounts file: comments, blank lines and one account per line") {
  const auto keys = parse(
      "# keys\n\nalice  0123456789abcdef\ncarol\t"
      "fedcba9876543210-x\n",
      "a.txt");
  REQUIRE(keys);
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[1].account == "carol");
  CHECK((*keys)[1].api_key == "fedcba9876543210-x");
}

TEST_CASE("accounts file errors name the line") {
  CHECK(parse("alice\n", "a.txt").error() == "a.txt:1: expected '<account id> <api key>'");
  CHECK(parse("alice k k2\n", "a.txt").error() == "a.txt:1: expected '<account id> <api key>'");
  CHECK(parse("Alice 0123456789abcdef\n", "a.txt")
            .error()
            .starts_with("a.txt:1: account "
                         "id 'Alice'"));
  CHECK(parse("alice short\n", "a.txt").error() ==
        "a.txt:1: the API key of 'alice' must be 16 to 256 printable characters");
  CHECK(parse("alice 0123456789abcdef\nalice 0123456789abcdeX\n", "a.txt").error() ==
        "a.txt:2: account 'alice' is listed twice");
  CHECK(parse("alice 0123456789abcdef\nbob 0123456789abcdef\n", "a.txt").error() ==
        "a.txt:2: the API key of 'bob' is another account's too");
}

TEST_CASE("accounts file: the key of an account") {
  const auto keys = parse("alice 0123456789abcdef\nbob 0123456789abcdeX\n", "a.txt");
  REQUIRE(keys);
  CHECK(key_of(*keys, "bob") == "0123456789abcdeX");
  CHECK(key_of(*keys, "carol") == std::nullopt);
}

TEST_CASE("accounts file: whose key a credential is") {
  const auto keys = parse("alice 0123456789abcdef\nbob 0123456789abcdeX\n", "a.txt");
  REQUIRE(keys);
  CHECK(account_of(*keys, "0123456789abcdeX") == "bob");
  CHECK(account_of(*keys, "0123456789abcdef") == "alice");
  CHECK(account_of(*keys, "0123456789abcde") == std::nullopt);    // a prefix
  CHECK(account_of(*keys, "0123456789abcdefX") == std::nullopt);  // longer
  CHECK(account_of(*keys, "") == std::nullopt);
}
