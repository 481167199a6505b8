#pragma once
// The exchanged tests' venue: an ExchangeService over tests/venue.yaml served on a free port with
// its journal in a temporary directory. The blocking clients (alice, bob, their order sessions)
// are the shared ones of mkt/testing/exchange_client.h. Every wait has a deadline.

#include <grpcpp/grpcpp.h>

#include <boost/asio/post.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "exchange_service.h"
#include "ledger_reporter.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/exchange_client.h"
#include "mkt/testing/io_thread.h"
#include "setup.h"

namespace mkt::exchanged::test {

using namespace std::chrono_literals;

using namespace mkt::testing::exchange_client;

// A directory removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("exchanged-test-" + std::to_string(seed()) + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline VenueSetup test_setup() {
  auto scenario = runtime::load_scenario_file(NETMARKET_EXCHANGED_TESTS "/venue.yaml");
  if (!scenario) throw std::runtime_error(scenario.error());
  auto keys = accounts::parse(accounts_text(), "accounts");
  auto setup = venue_setup(*scenario, *scenario->find_node("ex-1"), *keys);
  if (!setup) throw std::runtime_error(setup.error());
  return std::move(*setup);
}

// The service in this process, on a thread of its own.
class TestVenue {
 public:
  // With ledger addresses, trades are reported there in batches of at most `batch_max`.
  explicit TestVenue(const std::string& journal_path, int message_bytes_max = 64 * 1024,
                     std::vector<std::string> ledger = {}, std::size_t batch_max = 4096,
                     const runtime::Clock* clock = &runtime::system_clock(),
                     const std::function<void(ServiceOptions&)>& tweak = {}) {
    VenueSetup setup = test_setup();
    venue_ = std::make_unique<exchange::Venue>(setup.config);
    if (!ledger.empty()) settlement_.emplace(batch_max);
    JournalOptions options;
    options.path = journal_path;
    options.sync = runtime::SyncMode::none;
    auto journal = JournalFile::open(
        options, strand_,
        [this](const exchange::Record& record) {
          exchange::replay_record(*venue_, settlement(), record);
        },
        replay_);
    if (!journal) throw std::runtime_error(journal.error());
    journal_ = std::move(*journal);
    ServiceOptions service_options;
    service_options.account_by_key = setup.account_by_key;
    service_options.symbols = setup.symbols;
    service_options.session_stream.queued_messages_max = 100'000;
    service_options.clock = clock;
    if (settlement_) {
      ReporterOptions reporter_options;
      reporter_options.ledger_addresses = std::move(ledger);
      reporter_options.node_id = "ex-1";
      reporter_options.retry_min = 10ms;
      reporter_options.retry_max = 100ms;
      reporter_ = std::make_unique<LedgerReporter>(reporter_options, *venue_, *settlement_,
                                                   *journal_, strand_, registry_);
      service_options.on_trades = [this] { reporter_->kick(); };
    }
    service_options.telemetry = &telemetry_;
    if (tweak) tweak(service_options);
    service_ = std::make_unique<ExchangeService>(service_options, *venue_, settlement(), *journal_,
                                                 strand_, registry_);
    server_ = std::make_unique<runtime::RpcServer>(
        runtime::ServerOptions{"127.0.0.1:0", message_bytes_max});
    server_->add_service(service_.get());
    server_->add_service(&telemetry_);
    if (auto port = server_->start(); !port) throw std::runtime_error(port.error());
    if (reporter_) boost::asio::post(strand_, [this] { reporter_->kick(); });
  }

  ~TestVenue() {
    io_.run_on(strand_, [&] {
      if (reporter_) reporter_->stop();
      service_->close_streams();
      telemetry_.close_streams();
    });
    server_->shutdown(1s);
    journal_->close();
    io_.stop();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(server_->port()); }
  const ReplayStats& replay() const { return replay_; }
  std::string metrics() const { return registry_.render(); }
  exchange::Settlement* settlement() { return settlement_ ? &*settlement_ : nullptr; }
  runtime::TelemetryService& telemetry() { return telemetry_; }

  // Runs fn on the strand and waits for it, to look at the venue.
  template <class Fn>
  auto on_strand(Fn fn) {
    return io_.run_on(strand_, [&] { return fn(*venue_); });
  }

 private:
  mkt::testing::IoThread io_;
  runtime::Serial strand_{io_.io()};
  ReplayStats replay_;
  metrics::Registry registry_;
  runtime::TelemetryService telemetry_{strand_, "ex-1", registry_};
  std::unique_ptr<exchange::Venue> venue_;
  std::unique_ptr<JournalFile> journal_;
  std::optional<exchange::Settlement> settlement_;
  std::unique_ptr<LedgerReporter> reporter_;
  std::unique_ptr<ExchangeService> service_;
  std::unique_ptr<runtime::RpcServer> server_;
};

}  // namespace mkt::exchanged::test
