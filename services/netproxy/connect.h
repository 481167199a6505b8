#pragma once
// A CONNECT request's head, checked: it is a CONNECT, its Proxy-Authorization names the node that
// asks, and its target is host:port. I/O-free: the session checks what it read off the socket, and
// the fuzz target (fuzz/connect_fuzz.cpp) parses arbitrary bytes the way the session would.
// Whether the nodes are the scenario's, and linked, is the session's to ask of its address book.

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace mkt::netproxy {

inline constexpr std::uint32_t connect_header_bytes_max = 8 * 1024;

struct ConnectRequest {
  std::string source;  // the node id in Proxy-Authorization
  std::string target;  // host:port as asked
  std::string host;    // without brackets for an IPv6 literal
  std::string port;
};

struct ConnectRefusal {
  boost::beast::http::status status = boost::beast::http::status::bad_request;
  std::string reason;      // the label of netproxy_refusals_total
  std::string message;     // the response body
  bool challenge = false;  // answer with Proxy-Authenticate
};

using Head = boost::beast::http::request<boost::beast::http::empty_body>;

std::expected<ConnectRequest, ConnectRefusal> check_connect(const Head& head);

// Parses a request head from `bytes` (everything up to the blank line; anything after it is the
// tunnel's first bytes and ignored here) and checks it.
std::expected<ConnectRequest, ConnectRefusal> parse_connect(std::string_view bytes);

}  // namespace mkt::netproxy
