#pragma once
// The dashboard's files, served from one folder: GET /<name> for a file under it ("/" is
// index.html). A path with "..", ".", an empty segment, a backslash or a percent escape is not a
// file of the folder: 404, as for a name the folder does not have.

#include <filesystem>
#include <optional>
#include <string>

#include "mkt/runtime/http_server.h"

namespace mkt::monitord {

// The file's path relative to the folder, or none when the target cannot name one.
std::optional<std::string> asset_path(const std::string& target);

std::optional<runtime::HttpResponse> serve_asset(const std::filesystem::path& folder,
                                                 const runtime::HttpRequest& request);

}  // namespace mkt::monitord
