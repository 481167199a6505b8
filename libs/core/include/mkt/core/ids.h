#pragma once
// The naming rules every part of the system shares, so that an id accepted in a scenario is
// accepted on the wire and in a container name.

#include <cstddef>
#include <string>
#include <string_view>

namespace mkt::core {

inline constexpr std::size_t node_id_length_max = 64;
inline constexpr std::size_t symbol_length_max = 16;

// Node ids: 1-64 characters of [a-z0-9_-], starting with a letter ("ex_ny", "val-3").
bool is_valid_node_id(std::string_view id);
// Symbols: 1-16 characters of [A-Z0-9_.], starting with a letter ("STOCK_A", "BRK.B").
bool is_valid_symbol(std::string_view symbol);

// ASCII lower case, for names compared without case (host names, keywords).
std::string ascii_lower(std::string_view text);

}  // namespace mkt::core
