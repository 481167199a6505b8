#pragma once
// Small files a service reads at start (a scenario, an accounts file, a manifest) and writes so
// that a crash leaves the old version or the new one, never a torn mix.

#include <cstddef>
#include <expected>
#include <string>

namespace mkt::runtime {

// What reaches the disk before an acknowledgement (a journal's, a write-ahead log's): fsync (a
// power cut loses nothing acknowledged) or none (the page cache: survives kill -9, not a power
// cut).
enum class SyncMode { fsync, none };

// The whole file, if it has at most `max_bytes`. Errors: "<path>: cannot open the file",
// "<path>: the file is larger than N bytes".
std::expected<std::string, std::string> read_file(const std::string& path, std::size_t max_bytes);

// Writes a temporary file beside `path` (created with `mode`, so a secret is never readable by
// others even for a moment), syncs it, renames it over `path` and syncs the directory.
std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::string& text,
                                                       unsigned mode = 0644);

}  // namespace mkt::runtime
