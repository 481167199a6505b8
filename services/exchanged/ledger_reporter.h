#pragma once
// Reports the exchange's trades to the ledger (market.ledger.v1.Ledger.SubmitTradeBatch), on the
// exchange's strand, never holding up matching.
//
// When trades wait, the reporter journals a cut (the next batch: sequence n, up to a trade id),
// and once the cut is on disk it sends batch n; one batch is in flight at a time, as the ledger
// takes batch n+1 only after batch n. An OK answer (committed, or a duplicate of a batch committed
// before) is journalled as an acknowledgement and the batch is forgotten. Meanwhile batches wait in
// the journal, and the settlement lag is a metric.
//
// Finding the leader: a validator that is not the leader names the leader's address in trailing
// metadata and the reporter goes there at once. When the target fails (killed, partitioned, a
// timeout) the reporter asks every validator for the leader (GetClusterStatus, all at once) and
// goes to the first leader named that is not the validator that just failed (or is that one,
// by its own word: the failure passed). When every validator answered without deciding (an
// election is on, or followers still trust a dead leader until their election timeout), the batch
// is sent again after a backoff that doubles from retry_min to retry_max, the heartbeat, to the
// validator named or the next one, and a failure starts a new search: so settlement resumes
// within about a heartbeat and a round trip of a new leader's election. A refusal (a bad key or
// batch) is no passing fault: it is retried every refused_retry.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "journal_file.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/exchange/settlement.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/tls.h"
#include "mkt/runtime/unary.h"

namespace mkt::exchanged {

struct ReporterOptions {
  std::vector<std::string> ledger_addresses;  // host:port of the validators
  std::string node_id;                        // this exchange, as the proxy should see it
  std::string proxy_address;                  // empty: connect directly
  std::string ledger_key;                     // this exchange's credential, sent with every batch
  // Mutual TLS with the validators when set: any validator's certificate is accepted (the
  // addresses name no node), and each validator checks this exchange's.
  std::shared_ptr<const runtime::TlsIdentity> tls;
  std::chrono::milliseconds call_timeout{5000};
  std::chrono::milliseconds retry_min{20};
  std::chrono::milliseconds retry_max{100};  // the validators' heartbeat
  std::chrono::milliseconds refused_retry{2000};
  std::chrono::milliseconds search_timeout{500};  // asking a validator who leads
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
  void retry_later(std::chrono::milliseconds delay);
  void find_leader();
  void on_status(std::uint64_t round, std::size_t validator, const grpc::Status& status,
                 const market::ledger::v1::ClusterStatus& answer);
  void end_search();
  void go_to(const std::string& address);
  void update_lag();
  market::ledger::v1::Ledger::Stub& stub(const std::string& address);

  ReporterOptions options_;
  const exchange::Venue& venue_;
  exchange::Settlement& settlement_;
  JournalFile& journal_;
  runtime::Serial strand_;
  std::map<std::string, std::unique_ptr<market::ledger::v1::Ledger::Stub>> stubs_;
  std::string target_;
  std::string suspect_;  // the validator whose call failed last; not trusted as leader
  bool busy_ = false;    // a cut or ack being journalled, a call in flight, or a leader search
  struct {
    std::uint64_t round = 0;
    bool open = false;
    // By validator: the question in flight, and whether it answered without deciding.
    std::vector<std::shared_ptr<runtime::UnaryCall>> calls;
    std::vector<bool> answered;
    std::string named;  // the suspect, as some answer named it
  } search_;
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
