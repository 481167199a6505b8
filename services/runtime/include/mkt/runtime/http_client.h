#pragma once
// HTTP GET for tools, tests and the monitor: a process's /metrics, the proxy's JSON views. The
// timeout bounds the whole exchange (resolve, connect, request, response), so a process that
// accepts and never answers cannot hang the caller; a body over `body_bytes_max` is refused.

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <string>

namespace mkt::runtime {

using HttpResult = std::expected<std::string, std::string>;

struct HttpGet {
  std::string host;  // an IP address or a name to resolve
  int port = 0;
  std::string target = "/";
  std::chrono::milliseconds timeout{2000};
  std::size_t body_bytes_max = 8 << 20;
};

// GET http://<host>:<port><target>, asynchronously on `executor`: `done` gets the body of a 200
// answer, or why there is none ("GET http://127.0.0.1:9/metrics: Connection refused", "...:
// HTTP 404", "...: timed out"). `done` runs on `executor`.
void async_http_get(boost::asio::any_io_executor executor, HttpGet get,
                    std::function<void(HttpResult)> done);

// The same, blocking the caller.
HttpResult http_get(const std::string& host, int port, const std::string& target,
                    std::chrono::milliseconds timeout);

}  // namespace mkt::runtime
