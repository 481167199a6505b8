#pragma once
// Small files a service reads at start (a scenario, an accounts file, a manifest) and writes so
// that a crash leaves the old version or the new one, never a torn mix.

#include <cstddef>
#include <expected>
#include <string>

namespace mkt::runtime {

// The whole file, if it has at most `max_bytes`. Errors: "<path>: cannot open the file",
// "<path>: the file is larger than N bytes".
std::expected<std::string, std::string> read_file(const std::string& path, std::size_t max_bytes);

// Writes a temporary file beside `path` (created with `mode`, so a secret is never readable by
// others even for a moment), syncs it, renames it over `path` and syncs the directory.
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::string& text,
                                                       unsigned mode = 0644);

}  // namespace mkt::runtime
