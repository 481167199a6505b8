#include "node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/server.h"
#include "storage.h"
#include "validator.h"

namespace mkt::validatord {

namespace {

using namespace std::chrono_literals;

// What the scenario lets a batch hold: its exchanges with their symbols, and its accounts.
ledger::Admission admission_of(const scenario::Scenario& scenario) {
  ledger::Admission admission;
  for (const auto* node : scenario.nodes_with_role(scenario::Role::exchange)) {
    auto& symbols = admission.exchanges[node->id];
    for (const scenario::Symbol* symbol : scenario.symbols_of(*node)) {
      symbols[symbol->name] = symbol->cents_per_tick_lot;
    }
  }
  for (const std::string& account : runtime::market_accounts(scenario)) {
    admission.accounts.insert(account);
  }
  return admission;
}

// The keys in the file of the flag `flag`, one for each node of `role` in the scenario (and only
// theirs): every exchange's key to the ledger, every validator's to its peers.
std::expected<std::vector<accounts::AccountKey>, std::string> keys_of(
    const runtime::ServiceContext& context, const std::string& flag, scenario::Role role) {
  const std::string file = context.flag(flag);
  if (file.empty()) {
    return std::unexpected("--" + flag + " <file> is required (see validatord --help)");
  }
  auto keys = runtime::read_accounts_file(file);
  if (!keys) return std::unexpected(keys.error());
  std::vector<accounts::AccountKey> out;
  for (const auto* node : context.scenario.nodes_with_role(role)) {
    auto key = accounts::key_of(*keys, node->id);
    if (!key) {
      return std::unexpected(file + " has no key of the " + std::string(scenario::to_string(role)) +
                             " " + node->id);
    }
    out.push_back({node->id, std::move(*key)});
  }
  return out;
}

// The validator's options from the scenario and the flags; the error is a bad command line.
std::expected<ValidatorOptions, std::string> validator_options(
    const runtime::ServiceContext& context) {
  const scenario::Scenario& scenario = context.scenario;
  const auto& flags = context.flags();
  ValidatorOptions options;
  options.node_id = context.node_id();
  for (const auto* node : scenario.nodes_with_role(scenario::Role::validator)) {
    options.validators.push_back(node->id);
  }
  const auto tick_ms = flags.count("tick-ms")
                           ? flags["tick-ms"].as<unsigned>()
                           : static_cast<unsigned>(scenario.consensus.heartbeat_ms);
  const auto election_ms = flags.count("election-timeout-ms")
                               ? flags["election-timeout-ms"].as<unsigned>()
                               : static_cast<unsigned>(scenario.consensus.election_timeout_ms);
  if (tick_ms == 0 || election_ms < 2 * tick_ms) {
    return std::unexpected(
        fmt::format("the election timeout ({} ms) must be at least twice the heartbeat ({} ms)",
                    election_ms, tick_ms));
  }
  options.tick = std::chrono::milliseconds(tick_ms);
  options.election_ticks = static_cast<int>(election_ms / tick_ms);
  options.seed = scenario.seed ^ std::hash<std::string>{}(context.node_id());
  options.compact_entries = flags["compact-entries"].as<std::uint64_t>();
  options.transport.proxy_address = context.proxy.value_or("");
  options.transport.tls = context.tls;
  options.ledger.admission = admission_of(scenario);
  auto keys = keys_of(context, "ledger-keys", scenario::Role::exchange);
  if (!keys) return std::unexpected(keys.error());
  options.ledger.keys = std::move(*keys);
  keys = keys_of(context, "validator-keys", scenario::Role::validator);
  if (!keys) return std::unexpected(keys.error());
  options.validator_keys = std::move(*keys);
  options.transport.node_key = *accounts::key_of(options.validator_keys, options.node_id);
  return options;
}

void log_recovery(const RecoveryStats& recovery, const raft::Restore& restore) {
  spdlog::info("recovered {} log records ({} torn bytes cut): term {}, commit {}, {} entries{}",
               recovery.records, recovery.torn_bytes_dropped, restore.hard_state.term,
               restore.hard_state.commit, restore.entries.size(),
               restore.snapshot
                   ? fmt::format(" after a snapshot at {}", restore.snapshot->meta.index)
                   : std::string());
}

}  // namespace

int run_node(runtime::ServiceContext& context) {
  if (context.scenario.consensus.protocol != scenario::ConsensusProtocol::raft) {
    spdlog::error("the scenario's protocol is {}; only raft is implemented",
                  scenario::to_string(context.scenario.consensus.protocol));
    return 2;
  }
  if (context.flag("data-dir").empty()) {
    spdlog::error("--data-dir <dir> is required (see validatord --help)");
    return 2;
  }
  auto options = validator_options(context);
  if (!options) {
    spdlog::error("{}", options.error());
    return 2;
  }
  if (auto added = context.add_addresses("peer"); !added) {
    spdlog::error("{}", added.error());
    return 2;
  }
  raft::Restore restore;
  RecoveryStats recovery;
  auto storage = RaftStorage::open({context.flag("data-dir"), context.sync}, restore, recovery);
  if (!storage) {
    spdlog::error("{}", storage.error());
    return 1;
  }
  log_recovery(recovery, restore);

  metrics::Registry registry;
  runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  const auto tick = options->tick;
  const auto election_ticks = options->election_ticks;
  runtime::TelemetryService telemetry(strand, context.node_id(), registry);
  options->telemetry = &telemetry;
  Validator validator(strand, std::move(*options), context.addresses, **storage, std::move(restore),
                      registry);
  runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  runtime::RpcServer server({.listen_address = context.listen,
                             .max_receive_message_bytes = static_cast<int>(
                                 context.flags()["message-bytes-max"].as<unsigned>()),
                             .tls = context.tls});
  server.add_service(validator.ledger_service());
  server.add_service(validator.raft_service());
  server.add_service(&telemetry);
  runner.on_stop_in(strand, [&] {
    validator.stop();
    telemetry.close_streams();
  });
  const auto ports = runtime::serve_node(runner, server, metrics_server, context, 2s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  boost::asio::post(strand, [&] { validator.start(); });
  spdlog::info(
      "validator {} listening on port {}; metrics on port {}; heartbeat {} ms, election timeout "
      "{} ms",
      context.node_id(), ports->grpc, ports->metrics, tick.count(), tick.count() * election_ticks);
  return runner.run();
}

}  // namespace mkt::validatord
