// agentd: one trading agent of a scenario, its strategy run against the venues over gRPC.
#include <spdlog/spdlog.h>

#include <iostream>

#include "agent.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "peer_service.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

// The agent's API key: its line of the accounts file.
std::expected<std::string, std::string> api_key_of(const std::string& path,
                                                   const std::string& node) {
  const auto keys = mkt::runtime::read_accounts_file(path);
  if (!keys) return std::unexpected(keys.error());
  if (auto key = mkt::accounts::key_of(*keys, node)) return *key;
  return std::unexpected("accounts file " + path + " has no key for " + node);
}

int run(const mkt::runtime::CommonOptions& options) {
  const po::variables_map& flags = options.extra;
  const mkt::scenario::Scenario& scenario = *options.scenario;
  std::int64_t epoch_ns = flags["epoch-ns"].as<std::int64_t>();
  if (epoch_ns == 0) {
    epoch_ns = mkt::runtime::wall_clock_ns();
    spdlog::warn(
        "no --epoch-ns: the market's time 0 is this agent's start, so its fundamental values "
        "differ from those of agents started at another time");
  }
  auto setup = mkt::agents::agent_setup(scenario, options.node_id, epoch_ns);
  if (!setup) {
    spdlog::error("{}", setup.error());
    return 1;
  }
  if (!flags.count("accounts")) {
    spdlog::error("--accounts <file> is required: the agent's API key is its line there");
    return 2;
  }
  const auto key = api_key_of(flags["accounts"].as<std::string>(), options.node_id);
  if (!key) {
    spdlog::error("{}", key.error());
    return 1;
  }

  // Client order ids carry this start's second in base 36, so a restarted agent's are new.
  std::string stamp;
  for (auto seconds = static_cast<std::uint64_t>(mkt::runtime::wall_clock_ns() / 1'000'000'000);
       seconds != 0; seconds /= 36) {
    stamp.insert(stamp.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[seconds % 36]);
  }
  setup->config.order_prefix = options.node_id + "." + stamp;

  mkt::agentd::AgentOptions agent_options;
  agent_options.node_id = options.node_id;
  agent_options.api_key = *key;
  agent_options.reaction_time_us = setup->reaction_time_us;
  if (flags.count("proxy")) agent_options.proxy_address = flags["proxy"].as<std::string>();
  std::vector<std::string> nodes;
  for (const auto& node : scenario.nodes) nodes.push_back(node.id);
  mkt::runtime::AddressBook addresses(
      nodes, flags.count("addresses") ? flags["addresses"].as<std::string>() : "");
  if (flags.count("exchange")) {
    for (const auto& assignment : flags["exchange"].as<std::vector<std::string>>()) {
      if (auto added = addresses.add(assignment); !added) {
        std::cerr << "agentd: --exchange " << added.error() << "\n";
        return 2;
      }
    }
  }
  for (const auto& venue : setup->config.venues) {
    const auto address = addresses.address_of(venue.id);
    if (!address) {
      spdlog::error("no address for exchange {}: give --exchange {}=host:port or --addresses",
                    venue.id, venue.id);
      return 1;
    }
    agent_options.venue_addresses[venue.id] = *address;
  }

  mkt::metrics::Registry registry;
  mkt::runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  // Peers' addresses: the addresses file, read again when a peer is not in it yet.
  agent_options.address_of = [&addresses](const std::string& node) {
    return addresses.address_of(node);
  };
  mkt::agentd::Agent agent(std::move(agent_options), std::move(*setup), strand, registry);
  mkt::agentd::PeerService peer(agent, strand);
  mkt::runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  mkt::runtime::RpcServer server({flags["listen"].as<std::string>(), 1 << 20});
  server.add_service(&peer);
  runner.on_stop_in(strand, [&] { agent.stop(); });
  const auto ports = mkt::runtime::serve_node(runner, server, metrics_server, flags, 1s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  boost::asio::post(strand, [&] { agent.start(); });
  spdlog::info("agent {} serving peers on port {}; metrics on port {}", options.node_id,
               ports->grpc, ports->metrics);
  return runner.run();
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description own("agentd options");
  // clang-format off
  own.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the peer service; port 0 picks a free one")
      ("accounts", po::value<std::string>(),
       "file of '<account id> <api key>' lines; the agent trades with the key of its node id")
      ("addresses", po::value<std::string>(),
       "file of '<node-id> <host>:<port>' lines (marketctl writes it): where the exchanges are")
      ("exchange", po::value<std::vector<std::string>>(),
       "id=host:port of an exchange (repeatable); overrides --addresses")
      ("proxy", po::value<std::string>(),
       "host:port of the network proxy; every connection goes through it")
      ("epoch-ns", po::value<std::int64_t>()->default_value(0),
       "the market's time 0 (Unix ns), the same for every agent of a market; 0: this start")
      ("metrics-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the Prometheus metrics (GET /metrics); port 0 picks a free one");
  // clang-format on
  const auto parsed = mkt::runtime::parse_command_line(
      argc, argv, "agentd", "one trading agent of a scenario: its strategy, books and orders", own);
  if (!parsed.options) return parsed.exit_code;
  const auto& options = *parsed.options;
  mkt::runtime::setup_logging(options.log_format, options.log_level, options.node_id);
  const int code = run(options);
  spdlog::info("exiting with {}", code);
  return code;
}
