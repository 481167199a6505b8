#pragma once
// Reads an accounts file (libs/accounts' format) under its size limit: the one place a process
// reads one.

#include <expected>
#include <string>
#include <vector>

#include "mkt/accounts/accounts.h"

namespace mkt::runtime {

// The file's accounts and keys; the error names the file (and the line, for a malformed one).
std::expected<std::vector<accounts::AccountKey>, std::string> read_accounts_file(
    const std::string& path);

}  // namespace mkt::runtime
