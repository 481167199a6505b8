#include "assets.h"

#include <fstream>
#include <sstream>

namespace mkt::monitord {
namespace {

constexpr std::uintmax_t asset_bytes_max = 8 << 20;

std::string content_type(const std::filesystem::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".json" || ext == ".map") return "application/json";
  return "application/octet-stream";
}

}  // namespace

std::optional<std::string> asset_path(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/') return std::nullopt;
  if (path == "/") return "index.html";
  path.erase(0, 1);
  if (path.find_first_of("\\%") != std::string::npos || path.find('\0') != std::string::npos) {
    return std::nullopt;
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment(path.data() + start, end - start);
    if (segment.empty() || segment == "." || segment == "..") return std::nullopt;
    start = end + 1;
  }
  return path;
}

std::optional<runtime::HttpResponse> serve_asset(const std::filesystem::path& folder,
                                                 const runtime::HttpRequest& request) {
  const auto relative = asset_path(request.target);
  if (!relative) return std::nullopt;
  const std::filesystem::path file = folder / *relative;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec) ||
      std::filesystem::file_size(file, ec) > asset_bytes_max) {
    return std::nullopt;
  }
  if (request.method != "GET") {
    return runtime::HttpResponse{.status = 405, .content_type = "text/plain", .body = "only GET\n"};
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in) return std::nullopt;
  return runtime::HttpResponse{
      .status = 200, .content_type = content_type(file), .body = body.str()};
}

}  // namespace mkt::monitord
