#include "mkt/runtime/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <list>

#include "mkt/runtime/address.h"
#include "mkt/runtime/run_folder.h"

namespace mkt::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {
constexpr std::size_t connections_max = 64;
constexpr std::uint32_t header_bytes_max = 8 * 1024;
constexpr std::uint64_t body_bytes_max = 64 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);
constexpr std::size_t websocket_message_max = 4 * 1024;
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

  struct Socket {
    explicit Socket(beast::tcp_stream stream) : ws(std::move(stream)) {}
    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer in;
    std::string out;                     // being written
    std::optional<std::string> pending;  // the newest text waiting behind it
    bool writing = false;
    bool closed = false;
  };

  void upgrade(const std::shared_ptr<Connection>& c) {
    auto s = std::make_shared<Socket>(std::move(c->stream));
    auto request = std::make_shared<http::request<http::string_body>>(c->parser->release());
    c->closed = true;  // its stream now belongs to the socket
    connections.remove(c);
    // Pings keep a page that only listens from being taken for idle.
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.keep_alive_pings = true;
    s->ws.set_option(timeouts);
    s->ws.read_message_max(websocket_message_max);
    beast::get_lowest_layer(s->ws).expires_never();
    sockets.push_back(s);
    s->ws.async_accept(*request, [self = shared_from_this(), s, request](beast::error_code ec) {
      if (ec) return self->close_socket(s);
      self->send(s, self->greeting ? self->greeting() : std::string());
      self->read_socket(s);
    });
  }

  void read_socket(const std::shared_ptr<Socket>& s) {
    s->ws.async_read(s->in, [self = shared_from_this(), s](beast::error_code ec, std::size_t) {
      if (s->closed) return;
      if (ec) return self->close_socket(s);  // closed by the client, or a frame that is wrong
      s->in.clear();
      self->read_socket(s);
    });
  }

  void send(const std::shared_ptr<Socket>& s, std::string text) {
    if (s->closed || text.empty()) return;
    if (s->writing) {
      s->pending = std::move(text);
      return;
    }
    s->writing = true;
    s->out = std::move(text);
    s->ws.text(true);
    s->ws.async_write(asio::buffer(s->out),
                      [self = shared_from_this(), s](beast::error_code ec, std::size_t) {
                        s->writing = false;
                        if (s->closed) return;
                        if (ec) return self->close_socket(s);
                        if (s->pending) {
                          std::string next = std::move(*s->pending);
                          s->pending.reset();
                          self->send(s, std::move(next));
                        }
                      });
  }

  void close_socket(const std::shared_ptr<Socket>& s) {
    if (s->closed) return;
    s->closed = true;
    beast::error_code ignored;
    beast::get_lowest_layer(s->ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(s->ws).socket().close(ignored);
    sockets.remove(s);
  }

  void accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (!ec) {
        if (self->connections.size() + self->sockets.size() >= connections_max) {
          spdlog::warn("http: refused a connection, {} are open", connections_max);
        } else {
          auto c = std::make_shared<Connection>(std::move(socket));
          beast::error_code ignored;
          c->stream.socket().set_option(tcp::no_delay(true), ignored);
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
      if (!websocket_path.empty() && websocket::is_upgrade(request) &&
          request.target().substr(0, request.target().find('?')) == websocket_path) {
        upgrade(c);
        return;
      }
      keep_alive = request.keep_alive();
      std::optional<HttpResponse> routed;
      if (request.target() != "/metrics" && routes) {
        routed = routes({std::string(request.method_string()), std::string(request.target()),
                         request.body(), std::string(request[api_key_metadata])});
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
  std::string websocket_path;
  std::function<std::string()> greeting;
  std::list<std::shared_ptr<Connection>> connections;  // on the io_context thread
  std::list<std::shared_ptr<Socket>> sockets;          // on the io_context thread
};

HttpServer::HttpServer(asio::io_context& io, std::function<std::string()> render, HttpRoutes routes)
    : state_(std::make_shared<State>(io, std::move(render), std::move(routes))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::enable_websocket(std::string path, std::function<std::string()> greeting) {
  state_->websocket_path = std::move(path);
  state_->greeting = std::move(greeting);
}

void HttpServer::broadcast(std::string text) {
  asio::post(state_->acceptor.get_executor(), [state = state_, text = std::move(text)] {
    // A copy per socket: each may hold the text while it writes.
    for (const auto& s : std::vector(state->sockets.begin(), state->sockets.end())) {
      state->send(s, text);
    }
  });
}

std::size_t HttpServer::websockets() const {
  return state_->sockets.size();
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
    while (!state->sockets.empty()) state->close_socket(state->sockets.front());
  });
}

}  // namespace mkt::runtime
