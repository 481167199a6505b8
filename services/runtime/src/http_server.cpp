#include "mkt/runtime/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>

#include "mkt/runtime/address.h"

namespace mkt::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t connections_max = 64;
constexpr std::uint32_t header_bytes_max = 8 * 1024;
constexpr std::uint64_t body_bytes_max = 64 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);
}  // namespace

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io, std::function<std::string()> render_fn, HttpRoutes routes_fn)
      : acceptor(io), render(std::move(render_fn)), routes(std::move(routes_fn)) {}

  struct Connection {
    explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    http::response<http::string_body> response;
    bool closed = false;
  };

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        if (self->connections.size() >= connections_max) {
          spdlog::warn("http: refused a connection, {} are open", connections_max);
        } else {
          auto c = std::make_shared<Connection>(std::move(socket));
          self->connections.push_back(c);
          self->read(c);
        }
      }
      self->accept();
    });
  }

  void read(const std::shared_ptr<Connection>& c) {
    c->parser.emplace();
    c->parser->header_limit(header_bytes_max);
    c->parser->body_limit(body_bytes_max);
    c->stream.expires_after(request_timeout);
    http::async_read(c->stream, c->buffer, *c->parser,
                     [self = shared_from_this(), c](beast::error_code ec, std::size_t) {
                       self->on_read(c, ec);
                     });
  }

  void on_read(const std::shared_ptr<Connection>& c, beast::error_code ec) {
    if (c->closed) return;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      close(c);
      return;
    }
    auto& response = c->response;
    response = {};
    response.version(11);
    response.set(http::field::server, "netmarket");
    bool keep_alive = false;
    if (ec) {
      response.result(http::status::bad_request);
      response.set(http::field::content_type, "text/plain");
      response.body() = "bad request: " + ec.message() + "\n";
    } else {
      const auto& request = c->parser->get();
      keep_alive = request.keep_alive();
      std::optional<HttpResponse> routed;
      if (request.target() != "/metrics" && routes) {
        routed = routes(
            {std::string(request.method_string()), std::string(request.target()), request.body()});
      }
      if (routed) {
        response.result(static_cast<unsigned>(routed->status));
        response.set(http::field::content_type, routed->content_type);
        response.body() = std::move(routed->body);
      } else if (request.target() != "/metrics") {
        response.result(http::status::not_found);
        response.set(http::field::content_type, "text/plain");
        response.body() = "not found: try /metrics\n";
      } else if (request.method() != http::verb::get) {
        response.result(http::status::method_not_allowed);
        response.set(http::field::allow, "GET");
        response.set(http::field::content_type, "text/plain");
        response.body() = "only GET\n";
      } else {
        response.result(http::status::ok);
        response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        response.body() = render();
      }
    }
    response.keep_alive(keep_alive);
    response.prepare_payload();
    c->stream.expires_after(request_timeout);
    http::async_write(
        c->stream, response,
        [self = shared_from_this(), c, keep_alive](beast::error_code write_ec, std::size_t) {
          if (c->closed) return;
          if (write_ec || !keep_alive) {
            self->close(c);
          } else {
            self->read(c);
          }
        });
  }

  void close(std::shared_ptr<Connection> c) {
    if (c->closed) return;
    c->closed = true;
    beast::error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->stream.socket().close(ignored);
    connections.remove(c);
  }

  tcp::acceptor acceptor;
  std::function<std::string()> render;
  HttpRoutes routes;
  std::list<std::shared_ptr<Connection>> connections;  // on the io_context thread
};

HttpServer::HttpServer(asio::io_context& io, std::function<std::string()> render, HttpRoutes routes)
    : state_(std::make_shared<State>(io, std::move(render), std::move(routes))) {}

HttpServer::~HttpServer() {
  stop();
}

std::expected<int, std::string> HttpServer::start(const std::string& listen_address) {
  auto port = listen_on(state_->acceptor, listen_address);
  if (port) state_->accept();
  return port;
}

void HttpServer::stop() {
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
    while (!state->connections.empty()) state->close(state->connections.front());
  });
}

}  // namespace mkt::runtime
