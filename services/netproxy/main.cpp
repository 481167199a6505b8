// netproxy: the network-impairment proxy every connection of the market passes through.
#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#include <boost/asio/post.hpp>
#include <filesystem>

#include "control.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/logging.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "proxy.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

int run(const mkt::runtime::CommonOptions& options) {
  const po::variables_map& flags = options.extra;
  const mkt::scenario::Scenario& scenario = *options.scenario;
  if (scenario.find_node(options.node_id)->role != mkt::scenario::Role::proxy) {
    spdlog::error("node '{}' is not the proxy of the scenario (that is '{}')", options.node_id,
                  scenario.proxy_id.empty() ? "nobody: proxy is disabled" : scenario.proxy_id);
    return 1;
  }
  // Timers wake within 1 ns of their time instead of the default 50 us of slack: a configured
  // delay of 100 us must not become 150.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  mkt::netmodel::LinkModel model = mkt::netmodel::LinkModel::build(scenario);
  std::vector<std::string> ids;
  for (const auto& node : scenario.nodes) ids.push_back(node.id);
  mkt::runtime::AddressBook book(
      ids, flags.count("addresses") ? flags["addresses"].as<std::string>() : std::string());
  if (auto loaded = book.reload(); !loaded && flags.count("addresses")) {
    // The file may not exist yet (marketctl writes it as nodes start): only a broken one stops.
    if (std::filesystem::exists(flags["addresses"].as<std::string>())) {
      spdlog::error("{}", loaded.error());
      return 1;
    }
  }
  if (flags.count("address")) {
    for (const auto& a : flags["address"].as<std::vector<std::string>>()) {
      if (auto added = book.add(a); !added) {
        spdlog::error("--address: {}", added.error());
        return 2;
      }
    }
  }

  mkt::runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  mkt::metrics::Registry registry;
  mkt::netproxy::ProxyOptions proxy_options;
  proxy_options.connections_max = flags["max-connections"].as<std::size_t>();
  proxy_options.window_bytes = flags["window-bytes"].as<std::size_t>();
  mkt::netproxy::Proxy proxy(runner.io(), model, book, registry, proxy_options);
  mkt::runtime::TelemetryService telemetry(strand, options.node_id, registry);
  mkt::netproxy::Control control(strand, model, proxy, &telemetry);
  mkt::netproxy::NetControlService control_service(strand, control);

  const auto port = proxy.start(flags["listen"].as<std::string>());
  if (!port) {
    spdlog::error("{}", port.error());
    return 1;
  }
  mkt::runtime::HttpServer http(
      runner.io(), [&] { return registry.render(); },
      [&](const mkt::runtime::HttpRequest& request) { return control.http(request); });
  const auto http_port = http.start(flags["http-listen"].as<std::string>());
  if (!http_port) {
    spdlog::error("{}", http_port.error());
    return 1;
  }
  mkt::runtime::RpcServer server({flags["control-listen"].as<std::string>()});
  server.add_service(&control_service);
  server.add_service(&telemetry);
  const auto control_port = server.start();
  if (!control_port) {
    spdlog::error("{}", control_port.error());
    return 1;
  }
  if (!flags.count("no-disruptions")) {
    boost::asio::post(strand, [&] { control.schedule_disruptions(scenario.disruptions); });
  }
  spdlog::info(
      "netproxy {} listening on port {} with {} links between {} nodes; control on port {}; "
      "http on port {}",
      options.node_id, *port, model.link_count(), model.nodes().size(), *control_port, *http_port);
  if (auto written = mkt::runtime::write_ports_file(
          flags, {{"proxy", *port}, {"control", *control_port}, {"http", *http_port}});
      !written) {
    spdlog::error("{}", written.error());
    return 1;
  }

  runner.on_stop_in(strand, [&] {
    control.stop();
    telemetry.close_streams();
  });
  runner.stop_server_on_stop(server, 2s);
  runner.on_stop([&] {
    http.stop();
    proxy.stop();
  });
  return runner.run();
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description own("netproxy options");
  // clang-format off
  own.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the CONNECT proxy; port 0 picks a free one")
      ("control-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the gRPC control API (NetControl, Telemetry, health)")
      ("http-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the JSON control API (/v1/...) and Prometheus metrics (/metrics)")
      ("addresses", po::value<std::string>(),
       "file of '<node-id> <host>:<port>' lines: where each node listens (read again when it "
       "changes)")
      ("address", po::value<std::vector<std::string>>(),
       "<node-id>=<host>:<port>, a node's address (repeatable)")
      ("max-connections", po::value<std::size_t>()->default_value(4096),
       "tunnels open at once; more are refused with 503")
      ("window-bytes", po::value<std::size_t>()->default_value(4 << 20),
       "bytes one direction of a tunnel may hold back before it stops reading from its sender")
      ("no-disruptions", "do not run the scenario's timed disruptions");
  // clang-format on
  const auto parsed = mkt::runtime::parse_command_line(
      argc, argv, "netproxy",
      "The network-impairment proxy: an HTTP CONNECT proxy that applies the scenario's link "
      "model (latency, jitter, bandwidth, loss, partitions) to every connection between nodes.",
      own);
  if (!parsed.options) return parsed.exit_code;
  const auto& options = *parsed.options;
  mkt::runtime::setup_logging(options.log_format, options.log_level, options.node_id);
  return run(options);
}
