#include "node.h"

#include <spdlog/spdlog.h>
#include <sys/prctl.h>

#include <boost/asio/post.hpp>
#include <filesystem>

#include "control.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "proxy.h"

namespace mkt::netproxy {

namespace {

using namespace std::chrono_literals;

// The addresses file may not exist yet (marketctl writes it as nodes start): only a broken one
// stops the proxy. Then the --address flags.
int load_addresses(runtime::ServiceContext& context) {
  if (auto loaded = context.addresses.reload(); !loaded && !context.flag("addresses").empty()) {
    if (std::filesystem::exists(context.flag("addresses"))) {
      spdlog::error("{}", loaded.error());
      return 1;
    }
  }
  if (auto added = context.add_addresses("address"); !added) {
    spdlog::error("{}", added.error());
    return 2;
  }
  return 0;
}

}  // namespace

int run_node(runtime::ServiceContext& context) {
  if (const int code = load_addresses(context); code != 0) return code;
  // Timers wake within 1 ns of their time instead of the default 50 us of slack: a configured
  // delay of 100 us must not become 150.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

  netmodel::LinkModel model = netmodel::LinkModel::build(context.scenario);
  runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  metrics::Registry registry;
  ProxyOptions proxy_options;
  proxy_options.connections_max = context.flags()["connections-max"].as<std::size_t>();
  proxy_options.window_bytes = context.flags()["window-bytes"].as<std::size_t>();
  Proxy proxy(runner.io(), model, context.addresses, registry, proxy_options);
  runtime::TelemetryService telemetry(strand, context.node_id(), registry);
  Control control(strand, model, proxy, &telemetry, *proxy_options.clock);
  if (const std::string file = context.flag("accounts"); !file.empty()) {
    auto accounts = runtime::read_accounts_file(file);
    if (!accounts) {
      spdlog::error("{}", accounts.error());
      return 2;
    }
    control.set_accounts(std::move(*accounts));
  } else {
    spdlog::warn("no --accounts: nobody may change the network through the control API");
  }
  NetControlService control_service(strand, control);

  const auto port = proxy.start(context.listen);
  if (!port) {
    spdlog::error("{}", port.error());
    return 1;
  }
  runtime::HttpServer http(
      runner.io(), [&] { return registry.render(); },
      [&](const runtime::HttpRequest& request) { return control.http(request); });
  const auto http_port = http.start(context.flag("http-listen"));
  if (!http_port) {
    spdlog::error("{}", http_port.error());
    return 1;
  }
  runtime::RpcServer server({.listen_address = context.flag("control-listen"), .tls = context.tls});
  server.add_service(&control_service);
  server.add_service(&telemetry);
  const auto control_port = server.start();
  if (!control_port) {
    spdlog::error("{}", control_port.error());
    return 1;
  }
  if (!context.flags().count("no-disruptions")) {
    boost::asio::post(strand, [&] { control.schedule_disruptions(context.scenario.disruptions); });
  }
  spdlog::info(
      "netproxy {} listening on port {} with {} links between {} nodes; control on port {}; "
      "http on port {}",
      context.node_id(), *port, model.link_count(), model.nodes().size(), *control_port,
      *http_port);
  if (auto written = runtime::write_ports_file(
          context.flags(), {{"proxy", *port}, {"control", *control_port}, {"http", *http_port}});
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

}  // namespace mkt::netproxy
