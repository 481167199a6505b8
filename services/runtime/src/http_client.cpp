#include "mkt/runtime/http_client.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <memory>

namespace mkt::runtime {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

// One GET: resolve, connect, write, read, each step the next's completion handler. One deadline
// (set once, on the stream) covers them all.
struct Exchange : std::enable_shared_from_this<Exchange> {
  Exchange(boost::asio::any_io_executor executor, HttpGet what, std::function<void(HttpResult)> f)
      : resolver(executor),
        resolving(executor),
        stream(executor),
        get(std::move(what)),
        done(std::move(f)),
        url("http://" + get.host + ":" + std::to_string(get.port) + get.target),
        deadline(std::chrono::steady_clock::now() + get.timeout) {
    request = {http::verb::get, get.target, 11};
    request.set(http::field::host, get.host);
    parser.body_limit(get.body_bytes_max);
  }

  void start() {
    // The resolver has no deadline of its own (getaddrinfo runs on a thread of its own): a timer
    // cancels it.
    resolving.expires_at(deadline);
    resolving.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->resolver.cancel();
    });
    resolver.async_resolve(get.host, std::to_string(get.port),
                           [self = shared_from_this()](beast::error_code ec, auto results) {
                             self->on_resolve(ec, std::move(results));
                           });
  }
  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    resolving.cancel();
    if (std::chrono::steady_clock::now() >= deadline) return finish(beast::error::timeout);
    if (ec) return finish(ec);
    stream.expires_at(deadline);
    stream.async_connect(
        results, [self = shared_from_this()](beast::error_code e, auto) { self->on_connect(e); });
  }
  void on_connect(beast::error_code ec) {
    if (ec) return finish(ec);
    http::async_write(stream, request, [self = shared_from_this()](beast::error_code e, auto) {
      self->on_write(e);
    });
  }
  void on_write(beast::error_code ec) {
    if (ec) return finish(ec);
    http::async_read(stream, buffer, parser,
                     [self = shared_from_this()](beast::error_code e, auto) { self->finish(e); });
  }
  void finish(beast::error_code ec) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    if (ec == beast::error::timeout) return done(std::unexpected("GET " + url + ": timed out"));
    if (ec == http::error::body_limit) {
      return done(std::unexpected("GET " + url + ": the answer is over " +
                                  std::to_string(get.body_bytes_max) + " bytes"));
    }
    if (ec) return done(std::unexpected("GET " + url + ": " + ec.message()));
    auto& response = parser.get();
    if (response.result() != http::status::ok) {
      return done(std::unexpected("GET " + url + ": HTTP " +
                                  std::to_string(static_cast<int>(response.result()))));
    }
    done(std::move(response.body()));
  }

  tcp::resolver resolver;
  boost::asio::steady_timer resolving;
  beast::tcp_stream stream;
  HttpGet get;
  std::function<void(HttpResult)> done;
  std::string url;
  std::chrono::steady_clock::time_point deadline;
  http::request<http::empty_body> request;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
};

}  // namespace

void async_http_get(boost::asio::any_io_executor executor, HttpGet get,
                    std::function<void(HttpResult)> done) {
  std::make_shared<Exchange>(std::move(executor), std::move(get), std::move(done))->start();
}

HttpResult http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout) {
  boost::asio::io_context io;
  HttpResult result = std::unexpected(std::string("not run"));
  async_http_get(
      io.get_executor(),
      {.host = host, .port = port, .target = target, .timeout = timeout, .body_bytes_max = 8 << 20},
      [&](HttpResult r) { result = std::move(r); });
  io.run();
  return result;
}

}  // namespace mkt::runtime
