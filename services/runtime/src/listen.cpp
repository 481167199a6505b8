#include "mkt/runtime/listen.h"

#include <charconv>

namespace mkt::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::expected<int, std::string> listen_on(tcp::acceptor& acceptor,
                                          const std::string& listen_address) {
  const auto colon = listen_address.rfind(':');
  boost::system::error_code ec;
  unsigned port = 0;
  asio::ip::address address;
  if (colon != std::string::npos) {
    std::string host = listen_address.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    address = asio::ip::make_address(host, ec);
    const char* first = listen_address.data() + colon + 1;
    const char* last = listen_address.data() + listen_address.size();
    const auto [end, error] = std::from_chars(first, last, port);
    if (error != std::errc() || end != last || first == last || port > 65535) {
      ec = asio::error::invalid_argument;
    }
  }
  if (colon == std::string::npos || ec) {
    return std::unexpected("'" + listen_address + "' is not host:port");
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected("cannot listen on " + listen_address + ": " + ec.message() +
                           " (address in use?)");
  }
  return acceptor.local_endpoint().port();
}

}  // namespace mkt::runtime
