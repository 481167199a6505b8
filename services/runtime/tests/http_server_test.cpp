// The metrics endpoint over a real socket on a free port: GET /metrics returns the rendered text
// with Prometheus's content type, keep-alive serves a second request on the same connection, other
// paths and methods get 404 and 405, a malformed request gets 400, and the server keeps serving;
// a process's own routes get the request with its body; http_get reads it, with a timeout. A
// WebSocket on the enabled path gets its greeting and every broadcast; a client that sends a
// malformed frame loses its socket, and the others and plain HTTP go on.

#include "mkt/runtime/http_server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch_test_macros.hpp>
#include <thread>

#include "mkt/runtime/http_client.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/io_thread.h"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Fixture {
  mkt::testing::IoThread io;
  mkt::runtime::HttpServer server{io.io(), [] { return std::string("up 1\n"); }};
  int port = server.start("127.0.0.1:0").value();

  ~Fixture() {
    server.stop();
    io.run([] {});  // after the stop, which was posted before
  }
};

struct Client {
  asio::io_context io;
  tcp::socket socket{io};
  boost::beast::flat_buffer buffer;

  explicit Client(int port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  }
  http::response<http::string_body> get(http::verb verb, const std::string& target) {
    http::request<http::empty_body> request(verb, target, 11);
    request.set(http::field::host, "test");
    http::write(socket, request);
    return read();
  }
  http::response<http::string_body> read() {
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  }
};

}  // namespace

TEST_CASE("GET /metrics serves the rendered text, twice on one connection") {
  Fixture f;
  Client client(f.port);
  for (int i = 0; i < 2; ++i) {
    const auto response = client.get(http::verb::get, "/metrics");
    CHECK(response.result() == http::status::ok);
    CHECK(response[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(response.body() == "up 1\n");
  }
}

TEST_CASE("other paths and methods are refused, and malformed requests get 400") {
  Fixture f;
  Client client(f.port);
  CHECK(client.get(http::verb::get, "/nope").result() == http::status::not_found);
  CHECK(client.get(http::verb::post, "/metrics").result() == http::status::method_not_allowed);

  Client garbage(f.port);
  asio::write(garbage.socket, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  CHECK(garbage.read().result() == http::status::bad_request);

  Client fine(f.port);
  CHECK(fine.get(http::verb::get, "/metrics").result() == http::status::ok);
}

TEST_CASE("a metrics port in use is a clear error") {
  Fixture f;
  asio::io_context io;
  mkt::runtime::HttpServer second(io, [] { return std::string(); });
  const auto result = second.start("127.0.0.1:" + std::to_string(f.port));
  REQUIRE_FALSE(result);
  CHECK(result.error().starts_with("cannot listen on 127.0.0.1:"));
}

TEST_CASE("a process's own routes get the method, path and body") {
  mkt::testing::IoThread io;
  mkt::runtime::HttpServer server{
      io.io(), [] { return std::string("up 1\n"); },
      [](const mkt::runtime::HttpRequest& request) -> std::optional<mkt::runtime::HttpResponse> {
        if (request.target != "/echo") return std::nullopt;
        return mkt::runtime::HttpResponse{201, "application/json",
                                          request.method + " " + request.body};
      }};
  const int port = server.start("127.0.0.1:0").value();
  Client client(port);
  http::request<http::string_body> request(http::verb::post, "/echo", 11);
  request.set(http::field::host, "test");
  request.body() = "{\"a\":1}";
  request.prepare_payload();
  http::write(client.socket, request);
  const auto response = client.read();
  CHECK(response.result_int() == 201);
  CHECK(response[http::field::content_type] == "application/json");
  CHECK(response.body() == "POST {\"a\":1}");
  CHECK(client.get(http::verb::get, "/metrics").body() == "up 1\n");
  CHECK(client.get(http::verb::get, "/other").result() == http::status::not_found);
  server.stop();
  io.run([] {});
}

TEST_CASE("http_get reads a body, names a refusal, and gives up at its timeout") {
  Fixture f;
  CHECK(mkt::runtime::http_get("127.0.0.1", f.port, "/metrics", std::chrono::seconds(5)) ==
        "up 1\n");
  CHECK(mkt::runtime::http_get("127.0.0.1", f.port, "/nope", std::chrono::seconds(5)).error() ==
        "GET http://127.0.0.1:" + std::to_string(f.port) + "/nope: HTTP 404");
  // A name is resolved (containers find each other by name).
  CHECK(mkt::runtime::http_get("localhost", f.port, "/metrics", std::chrono::seconds(5)) ==
        "up 1\n");
  CHECK(mkt::runtime::http_get("no-such-host.invalid", f.port, "/", std::chrono::seconds(5))
            .error()
            .starts_with("GET http://no-such-host.invalid:"));
  // An answer over the limit is refused, not read on.
  {
    asio::io_context io;
    mkt::runtime::HttpResult big;
    mkt::runtime::async_http_get(io.get_executor(),
                                 {.host = "127.0.0.1",
                                  .port = f.port,
                                  .target = "/metrics",
                                  .timeout = std::chrono::seconds(5),
                                  .body_bytes_max = 2},
                                 [&](mkt::runtime::HttpResult r) { big = std::move(r); });
    io.run();
    CHECK(big.error().ends_with(": the answer is over 2 bytes"));
  }
  // A listener that accepts (the kernel does, from its backlog) and never answers.
  asio::io_context io;
  tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto started = std::chrono::steady_clock::now();
  const auto result = mkt::runtime::http_get("127.0.0.1", silent.local_endpoint().port(),
                                             "/metrics", std::chrono::milliseconds(200));
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(result);
  CHECK(result.error().ends_with(": timed out"));
  CHECK(took >= std::chrono::milliseconds(200));
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("a WebSocket gets its greeting and the broadcasts; a malformed frame closes only it") {
  namespace websocket = boost::beast::websocket;
  mkt::testing::IoThread io;
  mkt::runtime::HttpServer server{io.io(), [] { return std::string("up 1\n"); }};
  server.enable_websocket("/live", [] { return std::string("hello"); });
  const int port = server.start("127.0.0.1:0").value();
  const auto open = [&] {
    auto ws = std::make_unique<websocket::stream<tcp::socket>>(asio::make_strand(io.io()));
    ws->next_layer().connect(
        {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    ws->handshake("127.0.0.1", "/live?x=1");
    return ws;
  };
  const auto next = [](websocket::stream<tcp::socket>& ws) {
    boost::beast::flat_buffer buffer;
    ws.read(buffer);
    return boost::beast::buffers_to_string(buffer.data());
  };
  auto good = open();
  CHECK(next(*good) == "hello");
  CHECK(io.run([&] { return server.websockets(); }) == 1);
  server.broadcast("round 1");
  CHECK(next(*good) == "round 1");

  // A frame a client must never send (unmasked): that socket is closed, nothing else.
  tcp::socket raw(io.io());
  raw.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  const std::string upgrade =
      "GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  asio::write(raw, asio::buffer(upgrade));
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);
  http::read_header(raw, buffer, parser);
  CHECK(parser.get().result() == http::status::switching_protocols);
  asio::write(raw, asio::buffer(std::string("\x81\x05hello", 7)));
  boost::system::error_code ec;
  std::array<char, 256> sink{};
  while (!ec) raw.read_some(asio::buffer(sink), ec);  // until the server shuts it down
  CHECK(ec);
  raw.close();  // the end of the server's teardown

  server.broadcast("round 2");
  CHECK(next(*good) == "round 2");
  CHECK(mkt::runtime::http_get("127.0.0.1", port, "/metrics", std::chrono::seconds(5)) == "up 1\n");
  CHECK(mkt::testing::eventually([&] { return io.run([&] { return server.websockets(); }) == 1; },
                                 std::chrono::seconds(5)));
  server.stop();
  io.run([] {});
}
