#include "node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <filesystem>

#include "api.h"
#include "assets.h"
#include "collector.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/server.h"
#include "mkt/runtime/telemetry.h"

namespace mkt::monitord {
namespace {

using namespace std::chrono_literals;

using Nodes = std::vector<std::pair<std::string, std::string>>;  // id, role

// One target per watched node, placed by `where(id, role)`.
template <class Where>
std::vector<Target> place(const Nodes& nodes, Where where) {
  std::vector<Target> out;
  for (const auto& [id, role] : nodes) out.push_back(where(id, role));
  return out;
}

// Where every node is: from a run folder's state (read each round: a node's ports are known once
// it serves), or by name and fixed ports (containers). The proxy's telemetry is on its control
// API.
std::expected<std::function<std::vector<Target>()>, std::string> targets_of(
    const runtime::ServiceContext& context) {
  const scenario::Scenario& scenario = context.scenario;
  Nodes nodes;
  for (const auto& node : scenario.nodes) {
    if (monitor::watched(node)) nodes.emplace_back(node.id, scenario::to_string(node.role));
  }
  const auto& flags = context.flags();
  const auto flag_port = [&](const char* name) {
    return flags.count(name) != 0 ? static_cast<int>(flags[name].as<unsigned>()) : 0;
  };
  if (flags.count("run") != 0) {
    const runtime::RunPaths run{flags["run"].as<std::string>()};
    return [run, nodes] {
      const auto state = runtime::read_state(run);
      return place(nodes, [&](const std::string& id, const std::string& role) {
        const runtime::NodeRecord* record = state ? state->find(id) : nullptr;
        return Target{.id = id,
                      .role = role,
                      .host = "127.0.0.1",
                      .metrics_port = record != nullptr ? record->metrics_port() : 0,
                      .grpc_port = record != nullptr
                                       ? record->port(role == "proxy" ? "control" : "grpc")
                                       : 0};
      });
    };
  }
  if (flags.count("metrics-port") != 0) {
    const int metrics = flag_port("metrics-port"), grpc = flag_port("grpc-port");
    const int proxy_http = flag_port("proxy-http-port"),
              proxy_control = flag_port("proxy-control-port");
    if (!scenario.proxy_id.empty() && proxy_http == 0) {
      return std::unexpected(
          std::string("--metrics-port needs --proxy-http-port: the scenario has a proxy"));
    }
    return [nodes, metrics, grpc, proxy_http, proxy_control] {
      return place(nodes, [&](const std::string& id, const std::string& role) {
        const bool proxy = role == "proxy";
        return Target{.id = id,
                      .role = role,
                      .host = id,
                      .metrics_port = proxy ? proxy_http : metrics,
                      .grpc_port = proxy ? proxy_control : grpc};
      });
    };
  }
  return std::unexpected(
      std::string("say where the nodes are: --run <folder> or --metrics-port <port>"));
}

}  // namespace

int run_node(runtime::ServiceContext& context) {
  auto targets = targets_of(context);
  if (!targets) {
    spdlog::error("{}", targets.error());
    return 2;
  }
  const scenario::Scenario& scenario = context.scenario;
  metrics::Registry registry;
  runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  runtime::TelemetryService telemetry(strand, context.node_id(), registry);
  const auto interval = std::chrono::milliseconds(scenario.monitoring.scrape_interval_ms);
  const std::filesystem::path assets = context.flag("assets");
  if (!std::filesystem::is_regular_file(assets / "index.html")) {
    spdlog::warn("no dashboard: {} has no index.html (run deploy/install-web.sh); the API serves",
                 assets.string());
  }
  // The collector pushes each round to the page; the page's server reads the collector.
  runtime::HttpServer* push = nullptr;
  std::int64_t pushed_ns = 0;  // the newest point pushed
  Collector collector(strand, scenario,
                      {.interval = interval,
                       .targets = std::move(*targets),
                       .judged =
                           [&] {
                             if (push != nullptr && push->websockets() > 0) {
                               push->broadcast(round_message(collector, scenario, pushed_ns));
                             } else {
                               pushed_ns = collector.last_round_ns();  // nobody to tell
                             }
                           },
                       .tls = context.tls},
                      registry, &telemetry);
  // The runner has one thread: the API reads the collector on the strand's thread.
  runtime::HttpServer http(
      runner.io(), [&] { return registry.render(); },
      [&](const runtime::HttpRequest& request) {
        if (auto api = serve_api(collector, scenario, request)) return api;
        return serve_asset(assets, request);
      });
  http.enable_websocket("/api/live", [&] { return hello_message(collector, scenario, 600); });
  push = &http;
  runtime::RpcServer server({.listen_address = context.listen, .tls = context.tls});
  server.add_service(&telemetry);
  runner.on_stop_in(strand, [&] {
    collector.stop();
    telemetry.close_streams();
  });
  const auto ports = runtime::serve_node(runner, server, http, context, 1s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  boost::asio::post(strand, [&] { collector.start(); });
  spdlog::info("monitor {} listening on port {}; dashboard on http://127.0.0.1:{}/; every {} ms",
               context.node_id(), ports->grpc, ports->metrics, interval.count());
  return runner.run();
}

}  // namespace mkt::monitord
