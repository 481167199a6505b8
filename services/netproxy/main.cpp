// netproxy: the network-impairment proxy every connection of the market passes through.
#include "node.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description own("netproxy options");
  // clang-format off
  own.add_options()
      ("control-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the gRPC control API (NetControl, Telemetry, health)")
      ("http-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the JSON control API (/v1/...) and Prometheus metrics (/metrics)")
      ("address", po::value<std::vector<std::string>>(),
       "<node-id>=<host>:<port>, a node's address (repeatable)")
      ("connections-max", po::value<std::size_t>()->default_value(4096),
       "tunnels open at once; more are refused with 503")
      ("window-bytes", po::value<std::size_t>()->default_value(4 << 20),
       "bytes one direction of a tunnel may hold back before it stops reading from its sender")
      ("no-disruptions", "do not run the scenario's timed disruptions")
      ("accounts", po::value<std::string>(),
       "file of '<account> <api key>' lines (marketctl's <run>/accounts): the operator's key "
       "(x-api-key) is what changes the network; without it nobody may");
  // clang-format on
  const mkt::runtime::ServiceSpec spec{
      .binary = "netproxy",
      .summary =
          "The network-impairment proxy: an HTTP CONNECT proxy that applies the scenario's "
          "link model (latency, jitter, bandwidth, loss, partitions) to every connection "
          "between nodes.",
      .role = mkt::scenario::Role::proxy,
      .role_phrase = "the proxy of the scenario",
      .listen_help = "the CONNECT proxy",
      .metrics = false,
      .proxy = false};
  return mkt::runtime::service_main(argc, argv, spec, own, mkt::netproxy::run_node);
}
