#pragma once
// "host:port" addresses: splitting them, and binding a TCP acceptor to one (port 0: a free one)
// for the servers a process runs on its io_context (HTTP, the proxy).

#include <boost/asio/ip/tcp.hpp>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mkt::runtime {

// host:port -> (host, port) with a port of 0-65535; a host in brackets ([::1]) keeps them, and an
// IPv6 host without brackets is refused.
std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view address);

// Opens, binds and listens. Returns the bound port, or "'<address>' is not host:port", or
// "cannot listen on <address>: <why> (address in use?)".
std::expected<int, std::string> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                          const std::string& listen_address);

}  // namespace mkt::runtime
