#pragma once
// A process's HTTP endpoint: GET /metrics answers with the text a render function returns
// (Prometheus), and a process may add routes of its own (netproxy's JSON control API). Plain
// HTTP/1.1 with Boost.Beast, keep-alive, on the process's io_context; handlers run on its thread.
// A client gets 10 s to send its request; a request is at most 8 KiB of headers and 64 KiB of
// body; at most 64 connections at once (more are closed at accept). A path nobody serves gets
// 404, a wrong method 405, a malformed request 400, and the server goes on.
//
// WebSocket push (for a page that shows live state): with enable_websocket(path), an upgrade
// request for that path becomes a WebSocket that gets the greeting's text at once and every
// broadcast() after it. A client that reads slowly gets the newest broadcast, not a queue: one
// text waits behind the one being written, and a newer one replaces it. What a client sends is
// read and dropped (at most 4 KiB a message); a malformed frame closes that socket only.

#include <boost/asio/io_context.hpp>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace mkt::runtime {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the path and query
  std::string body;
  std::string api_key;  // the x-api-key header: a caller's credential, as in gRPC's metadata
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

// Answers a request, or nullopt when the path is not its own (then 404).
using HttpRoutes = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, std::function<std::string()> render_metrics,
             HttpRoutes routes = {});
  ~HttpServer();

  // Before start(): WebSockets on `path` (the path part of the target), each sent `greeting()`
  // when it opens.
  void enable_websocket(std::string path, std::function<std::string()> greeting);
  // Sends `text` to every open WebSocket; thread-safe.
  void broadcast(std::string text);
  // Open WebSockets (on the io_context's thread).
  std::size_t websockets() const;

  // Binds host:port (port 0: a free one) and serves. Returns the port, or why it failed.
  std::expected<int, std::string> start(const std::string& listen_address);
  // Stops accepting and closes open connections; thread-safe.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace mkt::runtime
