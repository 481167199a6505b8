// monitord: watches a market on the management path (every process's /metrics and the proxy's
// links, never through the proxy), raises alerts, and serves what it sees over HTTP.
#include "node.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description own("monitord options");
  // clang-format off
  own.add_options()
      ("run", po::value<std::string>(),
       "the run folder of a market started by marketctl: every node's ports come from its state")
      ("metrics-port", po::value<unsigned>(),
       "instead of --run (containers): every node serves its metrics on this port of the host "
       "named by its node id")
      ("grpc-port", po::value<unsigned>(),
       "with --metrics-port: every node's gRPC port (its telemetry stream)")
      ("proxy-http-port", po::value<unsigned>(),
       "with --metrics-port: the port of the proxy's JSON API (/v1/links, /v1/stats)")
      ("proxy-control-port", po::value<unsigned>(),
       "with --metrics-port: the port of the proxy's gRPC control API (its telemetry stream)")
      ("assets", po::value<std::string>()->default_value(NETMARKET_WEB_DIR),
       "the dashboard's folder (index.html and what it loads)");
  // clang-format on
  const mkt::runtime::ServiceSpec spec{
      .binary = "monitord",
      .summary =
          "the market's monitor: collects every process's metrics and the proxy's links, "
          "raises alerts, and serves them as JSON over HTTP",
      .role = mkt::scenario::Role::monitor,
      .role_phrase = "the monitor of the scenario",
      .listen_help = "the Telemetry service (alerts as events)",
      .metrics = true,
      .metrics_help = "host:port of the HTTP API (/api/...) and monitord's own metrics (/metrics)",
      .addresses = false,
      .proxy = false};
  return mkt::runtime::service_main(argc, argv, spec, own, mkt::monitord::run_node);
}
