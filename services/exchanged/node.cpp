#include "node.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cstdio>
#include <filesystem>

#include "exchange_service.h"
#include "ledger_reporter.h"
#include "mkt/exchange/settlement.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/node.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/server.h"
#include "setup.h"

namespace mkt::exchanged {

namespace {

using namespace std::chrono_literals;

// The manifest is a line per account: far below this.
constexpr std::size_t manifest_bytes_max = 4 << 20;

// Ties the journal to the venue's numbering (see setup.h): writes the manifest of a new journal,
// checks that of an existing one, and records accounts added since.
std::string check_manifest(const std::string& journal, const std::string& current) {
  const std::string path = journal + ".manifest";
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    const auto recorded = runtime::read_file(path, manifest_bytes_max);
    if (!recorded) return recorded.error();
    if (auto why = manifest_mismatch(*recorded, current); !why.empty()) {
      return "journal " + journal + " does not fit this venue: " + why;
    }
    if (*recorded == current) return {};
  } else if (std::filesystem::file_size(journal, ec) > 0 && !ec) {
    return "journal " + journal + " has no manifest (" + path + "); it cannot be replayed safely";
  }
  const auto written = runtime::write_file_atomically(path, current);
  return written ? std::string() : written.error();
}

std::expected<VenueSetup, std::string> setup_of(const runtime::ServiceContext& context) {
  std::vector<accounts::AccountKey> keys;
  if (const auto path = context.flag("accounts"); !path.empty()) {
    auto parsed = runtime::read_accounts_file(path);
    if (!parsed) return std::unexpected(parsed.error());
    keys = std::move(*parsed);
  }
  if (keys.empty()) {
    spdlog::warn("no accounts file (--accounts): nobody can trade here, market data only");
  }
  return venue_setup(context.scenario, context.self, keys);
}

JournalOptions journal_options(const runtime::ServiceContext& context,
                               metrics::Registry& registry) {
  JournalOptions options;
  options.path = context.flag("journal");
  options.sync = context.sync;
  options.batch_delay =
      std::chrono::microseconds(context.flags()["journal-batch-us"].as<unsigned>());
  options.batch_latency = &registry.histogram(
      "exchange_journal_batch_seconds", "Writing (and syncing) one batch of journal records.",
      metrics::exponential_bounds(1000, 2, 1'000'000'000), 1e9);
  options.bytes =
      &registry.counter("exchange_journal_bytes_total", "Bytes appended to the journal.");
  return options;
}

// Opens the journal and replays it into the venue (and the settlement, with a ledger).
std::expected<std::unique_ptr<JournalFile>, std::string> replay_journal(
    const JournalOptions& options, runtime::Serial serial, exchange::Venue& venue,
    exchange::Settlement* settled) {
  ReplayStats replay;
  std::size_t diverged = 0;
  const auto started = std::chrono::steady_clock::now();
  auto journal = JournalFile::open(
      options, serial,
      [&](const exchange::Record& record) {
        // Only commands that changed the venue were journalled; one that no longer does means the
        // venue is not the one that wrote the journal.
        if (!exchange::replay_record(venue, settled, record)) ++diverged;
      },
      replay);
  if (!journal) return journal;
  if (diverged > 0) {
    return std::unexpected(
        fmt::format("replaying {} gave {} records that the venue rejects: the journal was written "
                    "by another venue",
                    options.path, diverged));
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  spdlog::info(
      "replayed {} journal records in {} ms ({} torn bytes cut); last order {}, last trade {}",
      replay.records, std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(),
      replay.torn_bytes_dropped, venue.last_order_id(), venue.last_trade_id());
  return journal;
}

// --print-trades: the journal replayed into a venue of its own, read-only. A torn last record is
// where a running exchange is writing: the dump ends before it.
int print_trades(const std::string& path, const VenueSetup& setup) {
  constexpr std::size_t journal_bytes_max = std::size_t{1} << 32;
  const auto bytes = runtime::read_file(path, journal_bytes_max);
  if (!bytes) {
    spdlog::error("{}", bytes.error());
    return 1;
  }
  const auto manifest = runtime::read_file(path + ".manifest", manifest_bytes_max);
  if (!bytes->empty() && !manifest) {
    spdlog::error("{}", manifest.error());
    return 1;
  }
  if (manifest) {
    if (auto why = manifest_mismatch(*manifest, manifest_of(setup.config)); !why.empty()) {
      spdlog::error("journal {} does not fit this venue: {}", path, why);
      return 1;
    }
  }
  exchange::Venue venue(setup.config);
  exchange::RecordReader reader(*bytes);
  exchange::Record record;
  std::size_t records = 0;
  std::uint64_t cut = 0, acknowledged = 0;
  std::string out;
  for (;;) {
    const auto status = reader.next(record);
    if (status == exchange::RecordReader::Status::corrupt) {
      spdlog::error("journal {} is damaged at byte {}: {}", path, reader.offset(), reader.error());
      return 1;
    }
    if (status != exchange::RecordReader::Status::ok) break;
    ++records;
    if (const auto* command = std::get_if<exchange::Command>(&record)) {
      const auto outcome = exchange::run_command(venue, *command);
      for (const auto& t : exchange::trades_of(venue, outcome, exchange::time_of(*command))) {
        out += fmt::format("trade {} {} {} {} {} {} {} {}\n", t.trade_id,
                           setup.config.symbols[t.symbol].name, t.price, t.quantity,
                           venue.account(t.buyer).id, venue.account(t.seller).id, t.buy_order,
                           t.sell_order);
      }
    } else if (const auto* c = std::get_if<exchange::SettlementCut>(&record)) {
      cut = c->sequence;
    } else {
      acknowledged = std::get<exchange::SettlementAck>(record).sequence;
    }
  }
  out += fmt::format("end records={} bytes={} last_trade={} cut={} acknowledged={}\n", records,
                     reader.offset(), venue.last_trade_id(), cut, acknowledged);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// The error is a bad command line or keys file.
std::expected<ReporterOptions, std::string> reporter_options(
    const runtime::ServiceContext& context) {
  ReporterOptions options;
  const std::string keys_file = context.flag("ledger-keys");
  if (keys_file.empty()) {
    return std::unexpected("--ledger needs --ledger-keys <file>: the exchange's key to the ledger");
  }
  auto keys = runtime::read_accounts_file(keys_file);
  if (!keys) return std::unexpected(keys.error());
  auto key = accounts::key_of(*keys, context.node_id());
  if (!key) return std::unexpected(keys_file + " has no key of " + context.node_id());
  options.ledger_key = std::move(*key);
  const std::string ledger = context.flag("ledger");
  for (std::size_t start = 0; start <= ledger.size();) {
    const std::size_t end = std::min(ledger.find(',', start), ledger.size());
    if (end > start) options.ledger_addresses.push_back(ledger.substr(start, end - start));
    start = end + 1;
  }
  options.node_id = context.node_id();
  options.proxy_address = context.proxy.value_or("");
  options.tls = context.tls;
  // Failover: retry no slower than the validators' heartbeat, and give up on a call (a paused
  // leader answers nothing) after two election timeouts, when a new leader is surely there.
  const auto& consensus = context.scenario.consensus;
  options.retry_max = std::chrono::milliseconds(std::max<std::int64_t>(consensus.heartbeat_ms, 10));
  options.retry_min = std::min(options.retry_min, options.retry_max);
  options.call_timeout =
      std::chrono::milliseconds(std::max<std::int64_t>(2 * consensus.election_timeout_ms, 1000));
  options.search_timeout =
      std::chrono::milliseconds(std::max<std::int64_t>(consensus.election_timeout_ms / 2, 250));
  return options;
}

}  // namespace

int run_node(runtime::ServiceContext& context) {
  if (context.flag("journal").empty()) {
    spdlog::error("--journal <file> is required (see exchanged --help)");
    return 2;
  }
  auto setup = setup_of(context);
  if (!setup) {
    spdlog::error("{}", setup.error());
    return 1;
  }
  if (context.flags().count("print-trades")) return print_trades(context.flag("journal"), *setup);
  metrics::Registry registry;
  const JournalOptions journal_config = journal_options(context, registry);
  if (auto why = check_manifest(journal_config.path, manifest_of(setup->config)); !why.empty()) {
    spdlog::error("{}", why);
    return 1;
  }
  exchange::Venue venue(setup->config);
  // Trades are kept for the ledger only when there is one to report to.
  std::optional<exchange::Settlement> settlement;
  const bool reports = !context.flag("ledger").empty();
  if (reports) settlement.emplace(context.scenario.consensus.batch_trades_max);
  exchange::Settlement* settled = settlement ? &*settlement : nullptr;
  runtime::ProcessRunner runner;
  const runtime::Serial serial(runner.io());
  auto journal = replay_journal(journal_config, serial, venue, settled);
  if (!journal) {
    spdlog::error("{}", journal.error());
    return 1;
  }

  ServiceOptions service_options;
  service_options.account_by_key = std::move(setup->account_by_key);
  service_options.orders_per_second = setup->orders_per_second;
  service_options.order_burst = setup->order_burst;
  service_options.unsettled_trades_max = setup->unsettled_trades_max;
  service_options.symbols = std::move(setup->symbols);
  std::unique_ptr<LedgerReporter> reporter;
  if (settled != nullptr) {
    auto reporting = reporter_options(context);
    if (!reporting) {
      spdlog::error("{}", reporting.error());
      return 2;
    }
    reporter = std::make_unique<LedgerReporter>(std::move(*reporting), venue, *settled, **journal,
                                                serial, registry);
    service_options.on_trades = [&] { reporter->kick(); };
    boost::asio::post(serial, [&] { reporter->kick(); });  // what the journal left unsettled
    spdlog::info("reporting trades to the ledger at {}; {} trades wait from before",
                 context.flag("ledger"), settled->unsettled_trades());
  }
  runtime::TelemetryService telemetry(serial, context.node_id(), registry);
  service_options.telemetry = &telemetry;
  ExchangeService service(std::move(service_options), venue, settled, **journal, serial, registry);
  runtime::HttpServer metrics_server(runner.io(), [&] { return registry.render(); });
  runtime::RpcServer server({.listen_address = context.listen,
                             .max_receive_message_bytes = static_cast<int>(
                                 context.flags()["message-bytes-max"].as<unsigned>()),
                             .tls = context.tls});
  server.add_service(&service);
  server.add_service(&telemetry);
  runner.on_stop_in(serial, [&] {
    if (reporter) reporter->stop();
    service.close_streams();
    telemetry.close_streams();
  });
  const auto ports = runtime::serve_node(runner, server, metrics_server, context, 2s);
  if (!ports) {
    spdlog::error("{}", ports.error());
    return 1;
  }
  runner.on_stop([&] { (*journal)->close(); });  // after the server: no call writes any more
  spdlog::info(
      "exchange {} listening on port {} with {} symbols and {} accounts; metrics on port {}",
      context.node_id(), ports->grpc, setup->config.symbols.size(), setup->config.accounts.size(),
      ports->metrics);
  return runner.run();
}

}  // namespace mkt::exchanged
