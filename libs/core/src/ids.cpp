#include "mkt/core/ids.h"

namespace mkt::core {

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > node_id_length_max) return false;
  if (id[0] < 'a' || id[0] > 'z') return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_valid_symbol(std::string_view symbol) {
  if (symbol.empty() || symbol.size() > symbol_length_max) return false;
  if (symbol[0] < 'A' || symbol[0] > 'Z') return false;
  for (const char c : symbol) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace mkt::core
