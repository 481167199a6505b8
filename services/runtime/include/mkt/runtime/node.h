#pragma once
// What every service node does to come up: start its gRPC server and its Prometheus metrics
// (GET /metrics on --metrics-listen), write the ports file (grpc, metrics), and have the runner
// stop both when it stops.

#include <chrono>
#include <expected>
#include <string>

#include "mkt/runtime/http_server.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "mkt/runtime/service_main.h"

namespace mkt::runtime {

struct NodePorts {
  int grpc = 0;
  int metrics = 0;
};

// Starts `metrics` on --metrics-listen and `server` (its services added), writes --ports-file,
// and registers the stops: the server, draining calls for up to `drain`, then the metrics.
// Register the node's own stop hooks first, so that they run before. The error says what failed.
std::expected<NodePorts, std::string> serve_node(ProcessRunner& runner, RpcServer& server,
                                                 HttpServer& metrics, const ServiceContext& context,
                                                 std::chrono::milliseconds drain);

}  // namespace mkt::runtime
