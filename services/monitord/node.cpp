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
// it serves), or by name and one port (containers).
std::expected<std::function<Targets()>, std::string> targets_of(
    const runtime::ServiceContext& context) {
  const scenario::Scenario& scenario = context.scenario;
  std::vector<std::string> ids;
  for (const auto& node : scenario.nodes) {
    if (node.role != scenario::Role::monitor && node.role != scenario::Role::proxy) {
      ids.push_back(node.id);
    }
  }
  const std::string proxy = scenario.proxy_id;
  const auto& flags = context.flags();
  if (flags.count("run") != 0) {
    const runtime::RunPaths run{flags["run"].as<std::string>()};
    return [run, ids, proxy] {
      Targets t;
      const auto state = runtime::read_state(run);
      const auto port = [&](const std::string& id, std::string_view name) {
        const runtime::NodeRecord* record = state ? state->find(id) : nullptr;
        return record != nullptr ? record->port(name) : 0;
      };
      for (const auto& id : ids) t.nodes.push_back({id, "127.0.0.1", port(id, "metrics")});
      if (!proxy.empty()) {
        t.nodes.push_back({proxy, "127.0.0.1", port(proxy, "http")});
        t.proxy_http = t.nodes.back();
      }
      return t;
    };
  }
  if (flags.count("metrics-port") != 0) {
    const int metrics_port = static_cast<int>(flags["metrics-port"].as<unsigned>());
    const int proxy_port = flags.count("proxy-http-port") != 0
                               ? static_cast<int>(flags["proxy-http-port"].as<unsigned>())
                               : 0;
    if (!proxy.empty() && proxy_port == 0) {
      return std::unexpected(
          std::string("--metrics-port needs --proxy-http-port: the scenario has a proxy"));
    }
    return [ids, proxy, metrics_port, proxy_port] {
      Targets t;
      for (const auto& id : ids) t.nodes.push_back({id, id, metrics_port});
      if (!proxy.empty()) {
        t.nodes.push_back({proxy, proxy, proxy_port});
        t.proxy_http = t.nodes.back();
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
  Collector collector(strand, scenario,
                      {.interval = interval,
                       .targets = std::move(*targets),
                       .judged =
                           [&] {
                             if (push != nullptr && push->websockets() > 0) {
                               push->broadcast(round_message(*watched, scenario));
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
