#include "mkt/runtime/address.h"

#include <algorithm>
#include <charconv>

namespace mkt::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::optional<std::pair<std::string, std::string>> split_host_port(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == address.size()) {
    return std::nullopt;
  }
  const auto host = address.substr(0, colon);
  const auto port = address.substr(colon + 1);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (error != std::errc() || end != port.data() + port.size() || value > 65535) {
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos && host.front() != '[') return std::nullopt;
  return std::pair{std::string(host), std::string(port)};
}

std::expected<int, std::string> listen_on(tcp::acceptor& acceptor,
                                          const std::string& listen_address) {
  const auto hp = split_host_port(listen_address);
  boost::system::error_code ec;
  asio::ip::address address;
  if (hp) {
    std::string host = hp->first;
    if (host.front() == '[') host = host.substr(1, host.size() - 2);
    address = asio::ip::make_address(host, ec);
  }
  if (!hp || ec) return std::unexpected("'" + listen_address + "' is not host:port");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(std::stoul(hp->second)));
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
