#include "mkt/runtime/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mkt::runtime {

std::expected<std::string, std::string> read_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot open the file");
  // Grows with what is there (a limit of gigabytes must not allocate gigabytes for a small
  // file); one byte past the limit is enough to know the file is too large.
  std::string buffer;
  std::size_t chunk = 64 * 1024;
  while (in && buffer.size() <= max_bytes) {
    const auto want = std::min(chunk, max_bytes + 1 - buffer.size());
    const auto old_size = buffer.size();
    buffer.resize(old_size + want);
    in.read(buffer.data() + old_size, static_cast<std::streamsize>(want));
    buffer.resize(old_size + static_cast<std::size_t>(in.gcount()));
    chunk = std::min<std::size_t>(chunk * 2, 64 << 20);
  }
  if (buffer.size() > max_bytes) {
    return std::unexpected(path + ": the file is larger than " + std::to_string(max_bytes) +
                           " bytes");
  }
  return buffer;
}

std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::string& text, unsigned mode) {
  const std::string temporary = path + ".tmp";
  auto failed = [&](const char* what) {
    return std::unexpected("cannot write " + path + " (" + what + "): " + std::strerror(errno));
  };
  ::unlink(temporary.c_str());  // a leftover would keep its own mode
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return failed("open");
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return failed("write");
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return failed("rename");
  // The rename is durable once the directory is.
  std::string directory = std::filesystem::path(path).parent_path().string();
  if (directory.empty()) directory = ".";
  const int dir = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed("open directory");
  const bool synced = ::fsync(dir) == 0;
  ::close(dir);
  if (!synced) return failed("sync directory");
  return {};
}

}  // namespace mkt::runtime
