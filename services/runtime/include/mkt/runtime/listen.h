#pragma once
// Binding a TCP acceptor to "host:port" (port 0: a free one), for the servers a process runs on
// its io_context (HTTP, the proxy).

#include <boost/asio/ip/tcp.hpp>
#include <expected>
#include <string>

namespace mkt::runtime {

// Opens, binds and listens. Returns the bound port, or "'<address>' is not host:port", or
// "cannot listen on <address>: <why> (address in use?)".
std::expected<int, std::string> listen_on(boost::asio::ip::tcp::acceptor& acceptor,
                                          const std::string& listen_address);

}  // namespace mkt::runtime
