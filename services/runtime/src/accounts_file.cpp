#include "mkt/runtime/accounts_file.h"

#include "mkt/runtime/files.h"

namespace mkt::runtime {

std::expected<std::vector<accounts::AccountKey>, std::string> read_accounts_file(
    const std::string& path) {
  const auto text = read_file(path, accounts::file_bytes_max);
  if (!text) return std::unexpected("accounts file: " + text.error());
  return accounts::parse(*text, path);
}

}  // namespace mkt::runtime
