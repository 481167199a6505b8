#pragma once
// A one-shot HTTP GET for tools and tests: a process's /metrics, the proxy's JSON views. The
// timeout bounds the whole exchange (connect, request, response), so a process that accepts and
// never answers cannot hang the caller.

#include <chrono>
#include <expected>
#include <string>

namespace mkt::runtime {

// GET http://<ip>:<port><target>: the body of a 200 answer, or why there is none ("GET
// http://127.0.0.1:9/metrics: Connection refused", "... : HTTP 404", "... : timed out").
std::expected<std::string, std::string> http_get(const std::string& ip, int port,
                                                 const std::string& target,
                                                 std::chrono::milliseconds timeout);

}  // namespace mkt::runtime
