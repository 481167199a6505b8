// The CONNECT request head as the proxy checks it, from bytes: what it takes (the node in
// Proxy-Authorization, the host and port) and each refusal with its status and reason.

#include "connect.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::netproxy;
namespace http = boost::beast::http;

TEST_CASE("connect: a request names its node and target; bad ones are refused with a reason") {
  // "ex-1:" in base64, as gRPC sends grpc.http_proxy=http://ex-1@proxy.
  const auto ok = parse_connect(
      "CONNECT [::1]:50051 HTTP/1.1\r\nProxy-Authorization: Basic ZXgtMTo=\r\n\r\ntunnel bytes");
  REQUIRE(ok);
  CHECK(ok->source == "ex-1");
  CHECK(ok->target == "[::1]:50051");
  CHECK(ok->host == "::1");
  CHECK(ok->port == "50051");

  const auto reason = [](std::string_view bytes) {
    const auto r = parse_connect(bytes);
    REQUIRE_FALSE(r);
    return std::pair{r.error().status, r.error().reason};
  };
  CHECK(reason("GET / HTTP/1.1\r\nHost: x\r\n\r\n") ==
        std::pair{http::status::method_not_allowed, std::string("not_connect")});
  CHECK(reason("CONNECT a:1 HTTP/1.1\r\n\r\n") ==
        std::pair{http::status::proxy_authentication_required, std::string("no_node")});
  CHECK(parse_connect("CONNECT a:1 HTTP/1.1\r\n\r\n").error().challenge);
  CHECK(reason("CONNECT nowhere HTTP/1.1\r\nProxy-Authorization: Basic ZXgtMTo=\r\n\r\n") ==
        std::pair{http::status::bad_request, std::string("malformed")});
  CHECK(reason("CONNECT a:1 HTTP/1.1\r\nX: " + std::string(10'000, 'x') + "\r\n\r\n") ==
        std::pair{http::status::request_header_fields_too_large, std::string("oversized")});
  CHECK(reason("CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: Basic ZXgtMTo=\r\n") ==
        std::pair{http::status::bad_request, std::string("malformed")});  // incomplete
  CHECK(reason("\x01\x02 garbage\r\n\r\n") ==
        std::pair{http::status::bad_request, std::string("malformed")});
}
