#include "mkt/runtime/node.h"

#include "mkt/runtime/options.h"

namespace mkt::runtime {

std::expected<NodePorts, std::string> serve_node(ProcessRunner& runner, RpcServer& server,
                                                 HttpServer& metrics, const ServiceContext& context,
                                                 std::chrono::milliseconds drain) {
  const auto metrics_port = metrics.start(context.metrics_listen);
  if (!metrics_port) return std::unexpected(metrics_port.error());
  const auto port = server.start();
  if (!port) {
    metrics.stop();
    return std::unexpected(port.error());
  }
  runner.stop_server_on_stop(server, drain);
  runner.on_stop([&metrics] { metrics.stop(); });
  if (auto written =
          write_ports_file(context.flags(), {{"grpc", *port}, {"metrics", *metrics_port}});
      !written) {
    return std::unexpected(written.error());
  }
  return NodePorts{.grpc = *port, .metrics = *metrics_port};
}

}  // namespace mkt::runtime
