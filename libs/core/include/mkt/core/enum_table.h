#pragma once
// One table per enum conversion, read in both directions: an enum and its name, or a lib's enum
// and the wire's. Write each conversion as one of these instead of a pair of switches, so the two
// directions cannot drift apart and a value added to one side is added to the other.
//
//   constexpr auto sides = core::enum_table<Side, std::string_view>({{Side::buy, "buy"}, ...});
//   sides.second_of(Side::buy) == "buy";  sides.first_of("sell") == Side::sell;
//
// Lookups are linear: the tables are short. A value found twice maps to its first row.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mkt::core {

template <class First, class Second, std::size_t N>
struct EnumTable {
  std::array<std::pair<First, Second>, N> rows;

  constexpr std::optional<Second> second_of(const First& first) const {
    for (const auto& row : rows) {
      if (row.first == first) return row.second;
    }
    return std::nullopt;
  }
  constexpr std::optional<First> first_of(const Second& second) const {
    for (const auto& row : rows) {
      if (row.second == second) return row.first;
    }
    return std::nullopt;
  }
  // The second column in row order (for a table of names: the accepted words, for messages).
  std::vector<std::string> seconds() const {
    std::vector<std::string> out;
    for (const auto& row : rows) out.emplace_back(row.second);
    return out;
  }
};

template <class First, class Second, std::size_t N>
constexpr EnumTable<First, Second, N> enum_table(const std::pair<First, Second> (&rows)[N]) {
  EnumTable<First, Second, N> table{};
  for (std::size_t i = 0; i < N; ++i) table.rows[i] = rows[i];
  return table;
}

// The name of `value` in a table of names, or "?" for a value the table lacks.
template <class First, std::size_t N>
constexpr std::string_view name_in(const EnumTable<First, std::string_view, N>& table,
                                   const First& value) {
  return table.second_of(value).value_or("?");
}

}  // namespace mkt::core
