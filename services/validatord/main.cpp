// validatord: one consensus validator of a scenario (Raft), replicating the trade ledger.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <iostream>

#include "mkt/runtime/files.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "storage.h"
#include "validator.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

int run(const mkt::runtime::CommonOptions& options) {
  const po::variables_map& flags = options.extra;
  const mkt::scenario::Scenario& scenario = *options.scenario;
  const mkt::scenario::Node& self = *scenario.find_node(options.node_id);
  if (self.role != mkt::scenario::Role::validator) {
    std::cerr << "validatord: node '" << options.node_id << "' is not a validator\n";
    return 2;
  }
  if (scenario.consensus.protocol != mkt::scenario::ConsensusProtocol::raft) {
    std::cerr << "validatord: the scenario's protocol is "
              << mkt::scenario::to_string(scenario.consensus.protocol)
              << "; only raft is implemented\n";
    return 2;
  }
  if (!flags.count("data-dir")) {
    std::cerr << "validatord: --data-dir <dir> is required (see validatord --help)\n";
    return 2;
  }
  const std::string sync = flags["wal-sync"].as<std::string>();
  if (sync != "fsync" && sync != "none") {
    std::cerr << "validatord: --wal-sync must be fsync or none, not '" << sync << "'\n";
    return 2;
  }

  mkt::validatord::ValidatorOptions validator_options;
  validator_options.node_id = options.node_id;
  std::vector<std::string> all_nodes;
  for (const auto& node : scenario.nodes) all_nodes.push_back(node.id);
  for (const auto* node : scenario.nodes_with_role(mkt::scenario::Role::validator)) {
    validator_options.validators.push_back(node->id);
  }
  const auto tick_ms = flags.count("tick-ms")
                           ? flags["tick-ms"].as<unsigned>()
                           : static_cast<unsigned>(scenario.consensus.heartbeat_ms);
  const auto election_ms = flags.count("election-timeout-ms")
                               ? flags["election-timeout-ms"].as<unsigned>()
                               : static_cast<unsigned>(scenario.consensus.election_timeout_ms);
  if (tick_ms == 0 || election_ms < 2 * tick_ms) {
    std::cerr << "validatord: the election timeout (" << election_ms
              << " ms) must be at least twice the heartbeat (" << tick_ms << " ms)\n";
    return 2;
  }
  validator_options.tick = std::chrono::milliseconds(tick_ms);
  validator_options.election_ticks = static_cast<int>(election_ms / tick_ms);
  validator_options.seed = scenario.seed ^ std::hash<std::string>{}(options.node_id);
  validator_options.compact_entries = flags["compact-entries"].as<std::uint64_t>();
  if (flags.count("proxy")) validator_options.proxy_address = flags["proxy"].as<std::string>();

  mkt::runtime::AddressBook addresses(
      all_nodes, flags.count("addresses") ? flags["addresses"].as<std::string>() : "");
  if (flags.count("peer")) {
    for (const auto& assignment : flags["peer"].as<std::vector<std::string>>()) {
      if (auto added = addresses.add(assignment); !added) {
        std::cerr << "validatord: --peer " << added.error() << "\n";
        return 2;
      }
    }
  }

  mkt::raft::Restore restore;
  mkt::validatord::RecoveryStats recovery;
  auto storage = mkt::validatord::RaftStorage::open(
      {flags["data-dir"].as<std::string>(), sync == "fsync"}, restore, recovery);
  if (!storage) {
    spdlog::error("{}", storage.error());
    return 1;
  }
  spdlog::info("recovered {} log records ({} torn bytes cut): term {}, commit {}, {} entries{}",
               recovery.records, recovery.torn_bytes_dropped, restore.hard_state.term,
               restore.hard_state.commit, restore.entries.size(),
               restore.snapshot
                   ? fmt::format(" after a snapshot at {}", restore.snapshot->meta.index)
                   : std::string());

  mkt::metrics::Registry registry;
  mkt::runtime::ProcessRunner runner;
  auto strand = runner.make_strand();
  mkt::validatord::Validator validator(strand, std::move(validator_options), addresses, **storage,
                                       std::move(restore), registry);
  mkt::runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  mkt::runtime::RpcServer server({flags["listen"].as<std::string>(),
                                  static_cast<int>(flags["max-message-bytes"].as<unsigned>())});
  server.add_service(validator.ledger_service());
  server.add_service(validator.raft_service());
  runner.on_stop_in(strand, [&] { validator.stop(); });
  const auto ports = mkt::runtime::serve_node(runner, server, metrics_server, flags, 2s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  boost::asio::post(strand, [&] { validator.start(); });
  spdlog::info(
      "validator {} listening on port {}; metrics on port {}; heartbeat {} ms, election "
      "timeout {} ms",
      options.node_id, ports->grpc, ports->metrics, tick_ms, election_ms);
  return runner.run();
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description own("validatord options");
  // clang-format off
  own.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the Ledger service (clients) and the Raft service (peers); port 0 picks one")
      ("data-dir", po::value<std::string>(), "where the write-ahead log and snapshot live")
      ("wal-sync", po::value<std::string>()->default_value("fsync"),
       "fsync: every Ready is on disk before its messages are sent; none: the page cache "
       "(survives kill -9, not a power cut)")
      ("addresses", po::value<std::string>(),
       "file of '<node-id> <host>:<port>' lines (marketctl writes it), read again when it changes")
      ("peer", po::value<std::vector<std::string>>(),
       "<validator>=<host>:<port> of a peer; repeat for each (instead of or before --addresses)")
      ("proxy", po::value<std::string>(),
       "host:port of the network proxy; peers are reached through it")
      ("tick-ms", po::value<unsigned>(), "heartbeat interval (default: the scenario's heartbeat_ms)")
      ("election-timeout-ms", po::value<unsigned>(),
       "election timeout, randomized up to twice this (default: the scenario's)")
      ("compact-entries", po::value<std::uint64_t>()->default_value(10'000),
       "snapshot the ledger and compact the log after this many applied entries")
      ("metrics-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the Prometheus metrics (GET /metrics); port 0 picks a free one")
      ("max-message-bytes", po::value<unsigned>()->default_value(256u << 20),
       "largest message accepted (a snapshot travels in one)");
  // clang-format on
  const auto parsed = mkt::runtime::parse_command_line(
      argc, argv, "validatord", "one consensus validator (Raft) replicating the trade ledger", own);
  if (!parsed.options) return parsed.exit_code;
  const auto& options = *parsed.options;
  mkt::runtime::setup_logging(options.log_format, options.log_level, options.node_id);
  return run(options);
}
