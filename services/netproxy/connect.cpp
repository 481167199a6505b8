#include "connect.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include "mkt/runtime/address.h"
#include "mkt/runtime/address_book.h"

namespace mkt::netproxy {

namespace http = boost::beast::http;

std::expected<ConnectRequest, ConnectRefusal> check_connect(const Head& head) {
  if (head.method() != http::verb::connect) {
    return std::unexpected(ConnectRefusal{http::status::method_not_allowed, "not_connect",
                                          "only CONNECT: this is netproxy, an HTTP CONNECT proxy",
                                          false});
  }
  const auto auth = head.find(http::field::proxy_authorization);
  if (auth == head.end()) {
    return std::unexpected(ConnectRefusal{
        http::status::proxy_authentication_required, "no_node",
        "Proxy-Authorization must name the node (grpc.http_proxy=http://<node-id>@host:port)",
        true});
  }
  auto source = runtime::node_of_authorization(auth->value());
  if (!source) {
    return std::unexpected(ConnectRefusal{http::status::proxy_authentication_required, "no_node",
                                          source.error(), true});
  }
  ConnectRequest request;
  request.source = std::move(*source);
  request.target = std::string(head.target());
  const auto hp = runtime::split_host_port(request.target);
  if (!hp) {
    return std::unexpected(ConnectRefusal{http::status::bad_request, "malformed",
                                          "'" + request.target + "' is not host:port", false});
  }
  request.host = hp->first.front() == '[' ? hp->first.substr(1, hp->first.size() - 2) : hp->first;
  request.port = hp->second;
  return request;
}

std::expected<ConnectRequest, ConnectRefusal> parse_connect(std::string_view bytes) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(connect_header_bytes_max);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (!ec && !parser.is_header_done() && used < bytes.size()) {
    used += parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) break;  // the session would wait for more bytes
  }
  if (ec == http::error::header_limit) {
    return std::unexpected(ConnectRefusal{
        http::status::request_header_fields_too_large, "oversized",
        "the request headers are over " + std::to_string(connect_header_bytes_max) + " bytes",
        false});
  }
  if (!parser.is_header_done()) {
    return std::unexpected(ConnectRefusal{
        http::status::bad_request, "malformed",
        "bad request: " + (ec && ec != http::error::need_more ? ec.message() : "incomplete"),
        false});
  }
  return check_connect(parser.get());
}

}  // namespace mkt::netproxy
