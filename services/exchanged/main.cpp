// exchanged: one trading venue of a scenario, served over gRPC, journalled to disk.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <filesystem>
#include <iostream>

#include "exchange_service.h"
#include "ledger_reporter.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "setup.h"

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

// The manifest is a line per account: far below this.
constexpr std::size_t manifest_bytes_max = 4 << 20;

// Ties the journal to the venue's numbering (see setup.h): writes the manifest of a new journal,
// checks that of an existing one, and records accounts added since.
std::string check_manifest(const std::string& journal, const std::string& current) {
  const std::string path = journal + ".manifest";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    const auto recorded = mkt::runtime::read_file(path, manifest_bytes_max);
    if (!recorded) return recorded.error();
    if (auto why = mkt::exchanged::manifest_mismatch(*recorded, current); !why.empty()) {
      return "journal " + journal + " does not fit this venue: " + why;
    }
    if (*recorded == current) return {};
  } else if (std::filesystem::file_size(journal, ec) > 0 && !ec) {
    return "journal " + journal + " has no manifest (" + path + "); it cannot be replayed safely";
  }
  const auto written = mkt::runtime::write_file_atomically(path, current);
  return written ? std::string() : written.error();
}

int run(const mkt::runtime::CommonOptions& options) {
  const po::variables_map& flags = options.extra;
  const mkt::scenario::Scenario& scenario = *options.scenario;
  if (!flags.count("journal")) {
    std::cerr << "exchanged: --journal <file> is required (see exchanged --help)\n";
    return 2;
  }
  std::vector<mkt::accounts::AccountKey> keys;
  if (flags.count("accounts")) {
    auto parsed = mkt::runtime::read_accounts_file(flags["accounts"].as<std::string>());
    if (!parsed) {
      spdlog::error("{}", parsed.error());
      return 1;
    }
    keys = std::move(*parsed);
  }
  if (keys.empty()) {
    spdlog::warn("no accounts file (--accounts): nobody can trade here, market data only");
  }
  auto setup = mkt::exchanged::venue_setup(scenario, *scenario.find_node(options.node_id), keys);
  if (!setup) {
    spdlog::error("{}", setup.error());
    return 1;
  }

  mkt::exchanged::JournalOptions journal_options;
  journal_options.path = flags["journal"].as<std::string>();
  const std::string sync = flags["journal-sync"].as<std::string>();
  if (sync != "fsync" && sync != "none") {
    spdlog::error("--journal-sync must be fsync or none, not '{}'", sync);
    return 2;
  }
  journal_options.sync = sync == "fsync" ? mkt::exchanged::JournalOptions::Sync::fsync
                                         : mkt::exchanged::JournalOptions::Sync::none;
  journal_options.batch_delay = std::chrono::microseconds(flags["journal-batch-us"].as<unsigned>());
  mkt::metrics::Registry registry;
  journal_options.batch_latency = &registry.histogram(
      "exchange_journal_batch_seconds", "Writing (and syncing) one batch of journal records.",
      mkt::metrics::exponential_bounds(1000, 2, 1'000'000'000), 1e9);
  journal_options.bytes =
      &registry.counter("exchange_journal_bytes_total", "Bytes appended to the journal.");
  if (auto why = check_manifest(journal_options.path, mkt::exchanged::manifest_of(setup->config));
      !why.empty()) {
    spdlog::error("{}", why);
    return 1;
  }

  mkt::exchange::Venue venue(setup->config);
  // Trades are kept for the ledger only when there is one to report to.
  std::optional<mkt::exchange::Settlement> settlement;
  const std::string ledger = flags.count("ledger") ? flags["ledger"].as<std::string>() : "";
  if (!ledger.empty()) settlement.emplace(scenario.consensus.batch_trades_max);
  mkt::exchange::Settlement* settled = settlement ? &*settlement : nullptr;
  mkt::runtime::ProcessRunner runner;
  const mkt::exchanged::Strand strand(runner.io());
  mkt::exchanged::ReplayStats replay;
  std::size_t diverged = 0;
  const auto started = std::chrono::steady_clock::now();
  auto journal = mkt::exchanged::JournalFile::open(
      journal_options, strand,
      [&](const mkt::exchange::Record& record) {
        // Only commands that changed the venue were journalled; one that no longer does means the
        // venue is not the one that wrote the journal.
        if (!mkt::exchange::replay_record(venue, settled, record)) ++diverged;
      },
      replay);
  if (!journal) {
    spdlog::error("{}", journal.error());
    return 1;
  }
  if (diverged > 0) {
    spdlog::error(
        "replaying {} gave {} records that the venue rejects: the journal was written by "
        "another venue",
        journal_options.path, diverged);
    return 1;
  }
  spdlog::info(
      "replayed {} journal records in {} ms ({} torn bytes cut); last order {}, last "
      "trade {}",
      replay.records,
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                            started)
          .count(),
      replay.torn_bytes_dropped, venue.last_order_id(), venue.last_trade_id());

  mkt::exchanged::ServiceOptions service_options;
  service_options.account_by_key = std::move(setup->account_by_key);
  service_options.symbols = std::move(setup->symbols);
  std::unique_ptr<mkt::exchanged::LedgerReporter> reporter;
  if (settled != nullptr) {
    mkt::exchanged::ReporterOptions reporter_options;
    for (std::size_t start = 0; start <= ledger.size();) {
      const std::size_t end = std::min(ledger.find(',', start), ledger.size());
      if (end > start)
        reporter_options.ledger_addresses.push_back(ledger.substr(start, end - start));
      start = end + 1;
    }
    reporter_options.node_id = options.node_id;
    if (flags.count("proxy")) reporter_options.proxy_address = flags["proxy"].as<std::string>();
    reporter = std::make_unique<mkt::exchanged::LedgerReporter>(
        std::move(reporter_options), venue, *settled, **journal, strand, registry);
    service_options.on_trades = [&] { reporter->kick(); };
    boost::asio::post(strand, [&] { reporter->kick(); });  // what the journal left unsettled
    spdlog::info("reporting trades to the ledger at {}; {} trades wait from before", ledger,
                 settled->unsettled_trades());
  }
  mkt::runtime::TelemetryService telemetry(strand, options.node_id, registry);
  service_options.telemetry = &telemetry;
  mkt::exchanged::ExchangeService service(std::move(service_options), venue, settled, **journal,
                                          strand, registry);
  mkt::runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  mkt::runtime::RpcServer server({flags["listen"].as<std::string>(),
                                  static_cast<int>(flags["max-message-bytes"].as<unsigned>())});
  server.add_service(&service);
  server.add_service(&telemetry);
  runner.on_stop_in(strand, [&] {
    if (reporter) reporter->stop();
    service.close_streams();
    telemetry.close_streams();
  });
  const auto ports = mkt::runtime::serve_node(runner, server, metrics_server, flags, 2s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  runner.on_stop([&] { (*journal)->close(); });  // after the server: no call writes any more
  spdlog::info(
      "exchange {} listening on port {} with {} symbols and {} accounts; metrics on port {}",
      options.node_id, ports->grpc, setup->config.symbols.size(), setup->config.accounts.size(),
      ports->metrics);
  return runner.run();
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description own("exchanged options");
  // clang-format off
  own.add_options()
      ("listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port to serve on; port 0 picks a free one")
      ("journal", po::value<std::string>(),
       "the journal file, replayed on start (PATH.manifest is kept beside it)")
      ("journal-sync", po::value<std::string>()->default_value("fsync"),
       "fsync: each batch reaches the disk before it is acknowledged; none: the page cache "
       "(survives kill -9, not a power cut)")
      ("journal-batch-us", po::value<unsigned>()->default_value(0),
       "wait this long to gather a batch before writing it (0: write as soon as the disk is free)")
      ("accounts", po::value<std::string>(),
       "file of '<account id> <api key>' lines: the keys of the scenario's agents and any "
       "further accounts")
      ("ledger", po::value<std::string>(),
       "host:port[,host:port...] of the validators to report trades to; without it trades are "
       "not settled")
      ("proxy", po::value<std::string>(),
       "host:port of the network proxy; the ledger is reached through it")
      ("metrics-listen", po::value<std::string>()->default_value("127.0.0.1:0"),
       "host:port of the Prometheus metrics (GET /metrics); port 0 picks a free one")
      ("max-message-bytes", po::value<unsigned>()->default_value(64 * 1024),
       "largest request accepted; larger ones fail with RESOURCE_EXHAUSTED");
  // clang-format on
  const auto parsed = mkt::runtime::parse_command_line(
      argc, argv, "exchanged",
      "one trading venue of a scenario: matching, order entry, market data", own);
  if (!parsed.options) return parsed.exit_code;
  const auto& options = *parsed.options;
  mkt::runtime::setup_logging(options.log_format, options.log_level, options.node_id);
  return run(options);
}
