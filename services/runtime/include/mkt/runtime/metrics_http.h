#pragma once
// Prometheus metrics over HTTP: GET /metrics answers with the text a render function returns
// (called on the io_context thread for each scrape). Plain HTTP/1.1 with Boost.Beast, keep-alive,
// on the process's io_context. A client gets 10 s to send its request; a request is at most 8 KiB
// of headers and no body; at most 64 connections at once (more are closed at accept). Anything
// else than GET /metrics gets 404 or 405, a malformed request 400, and the server goes on.

#include <boost/asio/io_context.hpp>
#include <expected>
#include <functional>
#include <memory>
#include <string>

namespace mkt::runtime {

class MetricsHttpServer {
 public:
  MetricsHttpServer(boost::asio::io_context& io, std::function<std::string()> render);
  ~MetricsHttpServer();

  // Binds host:port (port 0: a free one) and serves. Returns the port, or why it failed.
  std::expected<int, std::string> start(const std::string& listen_address);
  // Stops accepting and closes open connections; thread-safe.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace mkt::runtime
