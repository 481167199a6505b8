#include "mkt/accounts/accounts.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "mkt/core/ids.h"

namespace mkt::accounts {

namespace {

bool printable_without_space(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace

std::expected<std::vector<AccountKey>, std::string> parse(std::string_view text,
                                                          const std::string& file) {
  std::vector<AccountKey> out;
  std::unordered_set<std::string> accounts;
  std::unordered_set<std::string> keys;
  std::istringstream in{std::string(text)};
  std::size_t number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::istringstream fields(line);
    AccountKey entry;
    std::string extra;
    if (!(fields >> entry.account) || entry.account.starts_with('#')) continue;
    const auto where = fmt::format("{}:{}", file, number);
    if (!(fields >> entry.api_key) || (fields >> extra)) {
      return std::unexpected(where + ": expected '<account id> <api key>'");
    }
    if (!core::is_valid_node_id(entry.account)) {
      return std::unexpected(fmt::format(
          "{}: account id '{}' must be 1-64 characters of [a-z0-9_-] starting with a letter", where,
          entry.account));
    }
    if (entry.api_key.size() < key_length_min || entry.api_key.size() > key_length_max ||
        !printable_without_space(entry.api_key)) {
      return std::unexpected(
          fmt::format("{}: the API key of '{}' must be {} to {} printable characters", where,
                      entry.account, key_length_min, key_length_max));
    }
    if (!accounts.insert(entry.account).second) {
      return std::unexpected(fmt::format("{}: account '{}' is listed twice", where, entry.account));
    }
    if (!keys.insert(entry.api_key).second) {
      return std::unexpected(
          fmt::format("{}: the API key of '{}' is another account's too", where, entry.account));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::optional<std::string> key_of(const std::vector<AccountKey>& keys, std::string_view account) {
  const auto found =
      std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.account == account; });
  if (found == keys.end()) return std::nullopt;
  return found->api_key;
}

std::optional<std::string> account_of(const std::vector<AccountKey>& keys, std::string_view key) {
  std::optional<std::string> owner;
  for (const AccountKey& k : keys) {
    unsigned char differ = k.api_key.size() != key.size() ? 1 : 0;
    for (std::size_t i = 0; i < k.api_key.size(); ++i) {
      differ |= static_cast<unsigned char>(k.api_key[i] ^ (i < key.size() ? key[i] : 0));
    }
    if (differ == 0) owner = k.account;
  }
  return owner;
}

}  // namespace mkt::accounts
