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

// Where every node is: from a run folder's state (read each round: a node's ports are known once
// it serves), or by name and fixed ports (containers).
std::expected<std::function<Targets()>, std::string> targets_of(
    const runtime::ServiceContext& context) {
  const scenario::Scenario& scenario = context.scenario;
  std::vector<std::pair<std::string, std::string>> nodes;  // id, role; the proxy last
  for (const auto& node : scenario.nodes) {
    if (monitor::watched(node) && node.role != scenario::Role::proxy) {
      nodes.emplace_back(node.id, scenario::to_string(node.role));
    }
  }
  const std::string proxy = scenario.proxy_id;
  if (!proxy.empty()) nodes.emplace_back(proxy, "proxy");
  const auto& flags = context.flags();
  const auto flag_port = [&](const char* name) {
    return flags.count(name) != 0 ? static_cast<int>(flags[name].as<unsigned>()) : 0;
  };
  if (flags.count("run") != 0) {
    const runtime::RunPaths run{flags["run"].as<std::string>()};
    return [run, nodes] {
      Targets t;
      const auto state = runtime::read_state(run);
      for (const auto& [id, role] : nodes) {
        const runtime::NodeRecord* record = state ? state->find(id) : nullptr;
        const auto port = [&](std::string_view name) {
          return record != nullptr ? record->port(name) : 0;
        };
        const bool is_proxy = role == "proxy";
        t.nodes.push_back({.id = id,
                           .role = role,
                           .host = "127.0.0.1",
                           .metrics_port = port(is_proxy ? "http" : "metrics"),
                           .grpc_port = port(is_proxy ? "control" : "grpc")});
        if (is_proxy) t.proxy_http = t.nodes.back();
      }
      return t;
    };
  }
  if (flags.count("metrics-port") != 0) {
    const int metrics = flag_port("metrics-port"), grpc = flag_port("grpc-port");
    const int proxy_http = flag_port("proxy-http-port"),
              proxy_control = flag_port("proxy-control-port");
    if (!proxy.empty() && proxy_http == 0) {
      return std::unexpected(
          std::string("--metrics-port needs --proxy-http-port: the scenario has a proxy"));
    }
    return [nodes, metrics, grpc, proxy_http, proxy_control] {
      Targets t;
      for (const auto& [id, role] : nodes) {
        const bool is_proxy = role == "proxy";
        t.nodes.push_back({.id = id,
                           .role = role,
                           .host = id,
                           .metrics_port = is_proxy ? proxy_http : metrics,
                           .grpc_port = is_proxy ? proxy_control : grpc});
        if (is_proxy) t.proxy_http = t.nodes.back();
      }
      return t;
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
  const Collector* watched = nullptr;
  std::int64_t pushed_ns = 0;  // the newest point pushed
  Collector collector(strand, scenario,
                      {.interval = interval,
                       .targets = std::move(*targets),
                       .judged =
                           [&] {
                             if (push != nullptr && push->websockets() > 0) {
                               push->broadcast(round_message(*watched, scenario, pushed_ns));
                             } else {
                               pushed_ns = watched->last_round_ns();  // nobody to tell
                             }
                           }},
                      registry, &telemetry);
  watched = &collector;
  // The runner has one thread: the API reads the collector on the strand's thread.
  runtime::HttpServer http(
      runner.io(), [&] { return registry.render(); },
      [&](const runtime::HttpRequest& request) {
        if (auto api = serve_api(collector, scenario, request)) return api;
        return serve_asset(assets, request);
      });
  http.enable_websocket("/api/live", [&] { return hello_message(collector, scenario, 600); });
  push = &http;
  runtime::RpcServer server({context.listen});
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
