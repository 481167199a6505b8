#pragma once
// Where each node of the market is: which node a host:port is (the proxy's question about a
// CONNECT target), and the host:port of a node (a validator's question about its peers).
//
// A target is a node when its host is the node's id (docker-compose: each container is reachable
// by its node id), or when it is one of the node's addresses. Addresses come from flags and from
// an addresses file of `<node-id> <host>:<port>` lines (# starts a comment), which `marketctl`
// writes as it starts nodes on free ports; the file is read again when it has changed and a
// target is not found, so a restarted node on a new port is found without restarting the proxy.
// Loopback names are one host: localhost, 127.0.0.1, ::1 and [::1] match each other.

#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mkt::runtime {

// The node id in a Proxy-Authorization header: "Basic " + base64("<id>") or base64("<id>:..."),
// as gRPC sends for grpc.http_proxy=http://<id>@host:port. Errors say what is wrong.
std::expected<std::string, std::string> node_of_authorization(std::string_view header);

class AddressBook {
 public:
  // `nodes`: the ids a target may name. `file` may be empty (no file).
  AddressBook(std::vector<std::string> nodes, std::string file);

  // Adds "<node>=<host>:<port>" (a flag); errors name what is wrong.
  std::expected<void, std::string> add(std::string_view assignment);
  // (Re)reads the file when it changed since the last read. Errors name the file and line; the
  // previous entries are kept then.
  std::expected<void, std::string> reload();
  // The node a CONNECT target is, reading the file again on a miss.
  std::optional<std::string> node_of_target(std::string_view target);
  bool knows_node(std::string_view id) const;
  // The host:port of a node: from flags first, then from the file (read again if it changed, so a
  // node restarted on a new port is found); nullopt when it has none yet.
  std::optional<std::string> address_of(std::string_view node);

 private:
  std::optional<std::string> lookup(const std::string& host, const std::string& port) const;

  std::vector<std::string> nodes_;
  std::string file_;
  std::optional<std::filesystem::file_time_type> file_time_;
  std::map<std::string, std::string> from_flags_;  // normalised host:port -> node
  std::map<std::string, std::string> from_file_;
  std::map<std::string, std::string> flag_address_of_;  // node -> host:port
  std::map<std::string, std::string> file_address_of_;
};

}  // namespace mkt::runtime
