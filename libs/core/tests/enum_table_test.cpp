// EnumTable converts both ways from one table, at compile time as at run time, and says when a
// value is not in it.
#include "mkt/core/enum_table.h"

#include <catch2/catch_test_macros.hpp>

namespace {

enum class Colour { red, green, blue };
enum class Wire { unspecified, red, green };

constexpr auto names = mkt::core::enum_table<Colour, std::string_view>(
    {{Colour::red, "red"}, {Colour::green, "green"}, {Colour::blue, "blue"}});
constexpr auto wire =
    mkt::core::enum_table<Colour, Wire>({{Colour::red, Wire::red}, {Colour::green, Wire::green}});

}  // namespace

TEST_CASE("core enum table: one table answers both directions") {
  static_assert(names.second_of(Colour::green) == "green");
  static_assert(names.first_of("blue") == Colour::blue);
  CHECK(names.first_of("purple") == std::nullopt);
  CHECK(mkt::core::name_in(names, Colour::red) == "red");
  CHECK(names.seconds() == std::vector<std::string>{"red", "green", "blue"});
  CHECK(wire.second_of(Colour::red) == Wire::red);
  CHECK(wire.first_of(Wire::green) == Colour::green);
  CHECK(wire.second_of(Colour::blue) == std::nullopt);
  CHECK(wire.first_of(Wire::unspecified) == std::nullopt);
}
