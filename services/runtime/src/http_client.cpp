#include "mkt/runtime/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

namespace mkt::runtime {

std::expected<std::string, std::string> http_get(const std::string& ip, int port,
                                                 const std::string& target,
                                                 std::chrono::milliseconds timeout) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  const std::string url = "http://" + ip + ":" + std::to_string(port) + target;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(ip, ec);
  if (ec) return std::unexpected("GET " + url + ": '" + ip + "' is not an IP address");

  // Asynchronous operations, because a tcp_stream's timeout applies only to those; one deadline
  // (set once) covers all three steps.
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, ip);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  beast::error_code failure;
  stream.expires_after(timeout);
  stream.async_connect({address, static_cast<unsigned short>(port)}, [&](beast::error_code e) {
    if (e) {
      failure = e;
      return;
    }
    http::async_write(stream, request, [&](beast::error_code e2, std::size_t) {
      if (e2) {
        failure = e2;
        return;
      }
      http::async_read(stream, buffer, response,
                       [&](beast::error_code e3, std::size_t) { failure = e3; });
    });
  });
  io.run();
  if (failure == beast::error::timeout) return std::unexpected("GET " + url + ": timed out");
  if (failure) return std::unexpected("GET " + url + ": " + failure.message());
  if (response.result() != http::status::ok) {
    return std::unexpected("GET " + url + ": HTTP " +
                           std::to_string(static_cast<int>(response.result())));
  }
  return std::move(response.body());
}

}  // namespace mkt::runtime
