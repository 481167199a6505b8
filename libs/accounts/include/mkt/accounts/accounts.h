#pragma once
// The accounts file: who may trade and with which API key. marketctl writes it into the run
// folder; the exchanges read every line (a key logs its account in), agents and marketctl read
// their own. One line per account, `<account id> <api key>`; blank lines and lines starting with
// '#' are skipped. No I/O here: runtime::read_accounts_file reads the file under the one limit.

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkt::accounts {

// A line per account: far below this.
inline constexpr std::size_t file_bytes_max = 4 << 20;
inline constexpr std::size_t key_length_min = 16;
inline constexpr std::size_t key_length_max = 256;

struct AccountKey {
  std::string account;
  std::string api_key;
};

// The account id is a node id's characters (core::is_valid_node_id), the key 16 to 256 printable
// characters without spaces. A malformed line, a repeated account or a repeated key is an error
// that names `file` and the line.
std::expected<std::vector<AccountKey>, std::string> parse(std::string_view text,
                                                          const std::string& file);

// The key of `account`, if the file lists it.
std::optional<std::string> key_of(const std::vector<AccountKey>& keys, std::string_view account);

// The account whose key `key` is, if any: a caller's credential checked. Every key is compared in
// full whatever matches, so the time taken says nothing of a key's bytes.
std::optional<std::string> account_of(const std::vector<AccountKey>& keys, std::string_view key);

}  // namespace mkt::accounts
