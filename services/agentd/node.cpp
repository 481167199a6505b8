#include "node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <set>

#include "agent.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/server.h"
#include "mkt/runtime/telemetry.h"
#include "peer_service.h"

namespace mkt::agentd {

namespace {

using namespace std::chrono_literals;

// The agent's API key: its line of the accounts file.
std::expected<std::string, std::string> api_key_of(const std::string& path,
                                                   const std::string& node) {
  const auto keys = runtime::read_accounts_file(path);
  if (!keys) return std::unexpected(keys.error());
  if (auto key = accounts::key_of(*keys, node)) return *key;
  return std::unexpected("accounts file " + path + " has no key for " + node);
}

// Client order ids carry this start's second in base 36, so a restarted agent's are new.
std::string start_stamp() {
  std::string stamp;
  for (auto seconds = static_cast<std::uint64_t>(runtime::wall_clock_ns() / 1'000'000'000);
       seconds != 0; seconds /= 36) {
    stamp.insert(stamp.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[seconds % 36]);
  }
  return stamp;
}

std::expected<std::int64_t, std::string> epoch_of(const runtime::ServiceContext& context) {
  if (const auto path = context.flag("epoch-file"); !path.empty()) {
    auto epoch = runtime::read_epoch(path);
    if (!epoch) return std::unexpected("--epoch-file: " + epoch.error());
    return epoch;
  }
  const auto epoch_ns = context.flags()["epoch-ns"].as<std::int64_t>();
  if (epoch_ns != 0) return epoch_ns;
  spdlog::warn(
      "no --epoch-ns: the market's time 0 is this agent's start, so its fundamental values "
      "differ from those of agents started at another time");
  return runtime::wall_clock_ns();
}

// The agent's options but for address_of, which needs the context's address book alive.
std::expected<AgentOptions, std::string> agent_options(runtime::ServiceContext& context,
                                                       const agents::AgentSetup& setup) {
  const auto key = api_key_of(context.flag("accounts"), context.node_id());
  if (!key) return std::unexpected(key.error());
  AgentOptions options;
  options.node_id = context.node_id();
  options.api_key = *key;
  options.reaction_time_us = setup.reaction_time_us;
  options.proxy_address = context.proxy.value_or("");
  options.tls = context.tls;
  for (const auto& venue : setup.config.venues) {
    const auto address = context.addresses.address_of(venue.id);
    if (!address) {
      return std::unexpected(
          fmt::format("no address for exchange {}: give --exchange {}=host:port or --addresses",
                      venue.id, venue.id));
    }
    options.venue_addresses[venue.id] = *address;
  }
  // Peers' addresses: the addresses file, read again when a peer is not in it yet.
  options.address_of = [&addresses = context.addresses](const std::string& node) {
    return addresses.address_of(node);
  };
  return options;
}

}  // namespace

int run_node(runtime::ServiceContext& context) {
  if (context.flag("accounts").empty()) {
    spdlog::error("--accounts <file> is required: the agent's API key is its line there");
    return 2;
  }
  if (auto added = context.add_addresses("exchange"); !added) {
    spdlog::error("{}", added.error());
    return 2;
  }
  const auto epoch = epoch_of(context);
  if (!epoch) {
    spdlog::error("{}", epoch.error());
    return 2;
  }
  auto setup = agents::agent_setup(context.scenario, context.node_id(), *epoch);
  if (!setup) {
    spdlog::error("{}", setup.error());
    return 1;
  }
  setup->config.order_prefix = context.node_id() + "." + start_stamp();
  auto options = agent_options(context, *setup);
  if (!options) {
    spdlog::error("{}", options.error());
    return 1;
  }

  metrics::Registry registry;
  runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  runtime::TelemetryService telemetry(strand, context.node_id(), registry);
  options->telemetry = &telemetry;
  Agent agent(std::move(*options), std::move(*setup), strand, registry);
  std::set<std::string, std::less<>> agents;
  for (const auto* node : context.scenario.nodes_with_role(scenario::Role::agent)) {
    agents.insert(node->id);
  }
  PeerService peer(agent, strand, std::move(agents));
  runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  runtime::RpcServer server(
      {.listen_address = context.listen, .max_receive_message_bytes = 1 << 20, .tls = context.tls});
  server.add_service(&peer);
  server.add_service(&telemetry);
  runner.on_stop_in(strand, [&] {
    agent.stop();
    telemetry.close_streams();
  });
  const auto ports = runtime::serve_node(runner, server, metrics_server, context, 1s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  boost::asio::post(strand, [&] { agent.start(); });
  spdlog::info("agent {} serving peers on port {}; metrics on port {}", context.node_id(),
               ports->grpc, ports->metrics);
  return runner.run();
}

}  // namespace mkt::agentd
