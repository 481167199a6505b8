#pragma once
// Reports the exchange's trades to the ledger (market.ledger.v1.Ledger.SubmitTradeBatch), on the
// exchange's strand, never holding up matching.
//
// When trades wait, the reporter journals a cut (the next batch: sequence n, up to a trade id),
// and once the cut is on disk it sends batch n; one batch is in flight at a time, as the ledger
// takes batch n+1 only after batch n. An OK answer (committed, or a duplicate of a batch committed
// before) is journalled as an acknowledgement and the batch is forgotten. A validator that is not
// the leader names the leader's address in trailing metadata and the reporter goes there; any
// other failure (the ledger down, a timeout) moves to the next validator after a backoff that
// doubles up to a limit. Meanwhile batches wait in the journal, and the settlement lag is a metric.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "journal_file.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/exchange/settlement.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/unary.h"

namespace mkt::exchanged {

struct ReporterOptions {
  std::vector<std::string> ledger_addresses;  // host:port of the validators
  std::string node_id;                        // this exchange, as the proxy should see it
  std::string proxy_address;                  // empty: connect directly
  std::string ledger_key;                     // this exchange's credential, sent with every batch
  std::chrono::milliseconds call_timeout{5000};
  std::chrono::milliseconds retry_min{50};
  std::chrono::milliseconds retry_max{2000};
};

class LedgerReporter {
 public:
  // The venue, settlement and journal belong to `strand`; all must outlive the reporter.
  LedgerReporter(ReporterOptions options, const exchange::Venue& venue,
                 exchange::Settlement& settlement, JournalFile& journal, runtime::Serial strand,
                 metrics::Registry& registry);
  ~LedgerReporter();

  // On the strand: trades may be waiting; cut or send what can be.
  void kick();
  // On the strand: sends nothing more and cancels the call in flight.
  void stop();

 private:
  void send(const exchange::Batch& batch);
  void on_answer(std::uint64_t sequence, const grpc::Status& status,
                 const market::ledger::v1::SubmitTradeBatchResponse& response);
  void acknowledge(std::uint64_t sequence);
  void retry_later(bool next_validator);
  void update_lag();
  market::ledger::v1::Ledger::Stub& stub(const std::string& address);

  ReporterOptions options_;
  const exchange::Venue& venue_;
  exchange::Settlement& settlement_;
  JournalFile& journal_;
  runtime::Serial strand_;
  std::map<std::string, std::unique_ptr<market::ledger::v1::Ledger::Stub>> stubs_;
  std::string target_;
  std::size_t next_address_ = 0;
  bool busy_ = false;  // a cut being journalled, a call in flight, or an ack being journalled
  bool stopped_ = false;
  std::chrono::milliseconds backoff_;
  boost::asio::steady_timer retry_timer_;
  boost::asio::steady_timer lag_timer_;
  std::shared_ptr<runtime::UnaryCall> call_;
  struct {
    metrics::Gauge* unsettled_trades;
    metrics::Gauge* lag_ms;
    metrics::Gauge* acknowledged_sequence;
    metrics::Counter* committed;
    metrics::Counter* duplicates;
    metrics::Counter* failures;
  } metrics_;
};

}  // namespace mkt::exchanged
