#include "mkt/runtime/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace mkt::runtime {

std::expected<std::string, std::string> read_file(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot open the file");
  // One byte past the limit is enough to know the file is too large.
  std::string buffer(max_bytes + 1, '\0');
  in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  buffer.resize(static_cast<std::size_t>(in.gcount()));
  if (buffer.size() > max_bytes) {
    return std::unexpected(path + ": the file is larger than " + std::to_string(max_bytes) +
                           " bytes");
  }
  return buffer;
}

std::expected<void, std::string> write_file_atomically(const std::string& path,
                                                       const std::string& text) {
  const std::string temporary = path + ".tmp";
  auto failed = [&](const char* what) {
    return std::unexpected("cannot write " + path + " (" + what + "): " + std::strerror(errno));
  };
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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
