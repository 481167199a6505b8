#include "mkt/runtime/address_book.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "mkt/core/ids.h"
#include "mkt/runtime/address.h"
#include "mkt/runtime/files.h"

namespace mkt::runtime {

namespace {

constexpr std::size_t file_bytes_max = 1 << 20;

std::string normal_host(std::string_view host) {
  std::string h = core::ascii_lower(host);
  if (h == "localhost" || h == "::1" || h == "[::1]") return "127.0.0.1";
  return h;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    const int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  if (count >= 6) return std::nullopt;  // a dangling sextet is not base64
  return out;
}

}  // namespace

std::expected<std::string, std::string> node_of_authorization(std::string_view header) {
  constexpr std::string_view scheme = "basic ";
  if (header.size() <= scheme.size() ||
      core::ascii_lower(header.substr(0, scheme.size())) != scheme) {
    return std::unexpected("Proxy-Authorization is not Basic");
  }
  auto encoded = header.substr(scheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  auto decoded = base64_decode(encoded);
  if (!decoded) return std::unexpected("Proxy-Authorization is not base64");
  std::string id = decoded->substr(0, decoded->find(':'));
  if (id.empty()) return std::unexpected("Proxy-Authorization names no node");
  return id;
}

AddressBook::AddressBook(std::vector<std::string> nodes, std::string file)
    : nodes_(std::move(nodes)), file_(std::move(file)) {}

bool AddressBook::knows_node(std::string_view id) const {
  return std::find(nodes_.begin(), nodes_.end(), id) != nodes_.end();
}

std::expected<void, std::string> AddressBook::add(std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return std::unexpected("'" + std::string(assignment) + "' is not <node>=<host>:<port>");
  }
  const std::string node(assignment.substr(0, eq));
  if (!knows_node(node)) return std::unexpected("'" + node + "' is not a node of the scenario");
  const auto hp = split_host_port(assignment.substr(eq + 1));
  if (!hp) {
    return std::unexpected("'" + std::string(assignment.substr(eq + 1)) + "' is not host:port");
  }
  from_flags_[normal_host(hp->first) + ":" + hp->second] = node;
  flag_address_of_[node] = std::string(assignment.substr(eq + 1));
  return {};
}

std::expected<void, std::string> AddressBook::reload() {
  if (file_.empty()) return {};
  std::error_code ec;
  const auto time = std::filesystem::last_write_time(file_, ec);
  if (ec) return std::unexpected(file_ + ": " + ec.message());
  if (file_time_ && *file_time_ == time) return {};
  const auto text = runtime::read_file(file_, file_bytes_max);
  if (!text) return std::unexpected(text.error());
  std::map<std::string, std::string> entries;
  std::map<std::string, std::string> address_of_node;
  std::istringstream in(*text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string node, address, extra;
    if (!(words >> node)) continue;
    const auto where = file_ + ":" + std::to_string(number) + ": ";
    if (!(words >> address) || (words >> extra)) {
      return std::unexpected(where + "expected '<node-id> <host>:<port>'");
    }
    if (!knows_node(node)) return std::unexpected(where + "'" + node + "' is not a node");
    const auto hp = split_host_port(address);
    if (!hp) return std::unexpected(where + "'" + address + "' is not host:port");
    entries[normal_host(hp->first) + ":" + hp->second] = node;
    address_of_node[node] = address;  // a later line wins
  }
  from_file_ = std::move(entries);
  file_address_of_ = std::move(address_of_node);
  file_time_ = time;
  return {};
}

std::optional<std::string> AddressBook::lookup(const std::string& host,
                                               const std::string& port) const {
  if (knows_node(host)) return host;
  const std::string key = normal_host(host) + ":" + port;
  if (const auto it = from_flags_.find(key); it != from_flags_.end()) return it->second;
  if (const auto it = from_file_.find(key); it != from_file_.end()) return it->second;
  return std::nullopt;
}

std::optional<std::string> AddressBook::node_of_target(std::string_view target) {
  const auto hp = split_host_port(target);
  if (!hp) return std::nullopt;
  if (auto node = lookup(hp->first, hp->second)) return node;
  if (!reload()) return std::nullopt;
  return lookup(hp->first, hp->second);
}

std::optional<std::string> AddressBook::address_of(std::string_view node) {
  const std::string id(node);
  if (const auto it = flag_address_of_.find(id); it != flag_address_of_.end()) return it->second;
  (void)reload();  // cheap when the file has not changed
  if (const auto it = file_address_of_.find(id); it != file_address_of_.end()) return it->second;
  return std::nullopt;
}

}  // namespace mkt::runtime
