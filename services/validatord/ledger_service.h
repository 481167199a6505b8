#pragma once
// The Ledger service of a validator: the replicated trade ledger (libs/ledger) and the clients
// waiting on it. It admits a submitted batch (carrying its exchange's key, and allowed by the
// scenario: ledger::admit) and hands it to the protocol that orders batches
// (the Sequencer: Raft here), answers the batch when its entry is applied (so an OK answer means
// it is committed on a quorum's disks), feeds the committed-entry streams, and answers queries
// from the applied state. It knows nothing of how entries are ordered, so another protocol can
// sit behind the same service.
//
// Everything runs on the validator's strand; the gRPC calls hand themselves to it
// (runtime::serve_on).

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <expected>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/ledger/ledger.h"
#include "mkt/metrics/registry.h"
#include "mkt/raft/types.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/stream.h"
#include "mkt/runtime/unary.h"

namespace mkt::validatord {

// What the Ledger service needs of the protocol that orders batches. Called on the strand.
class Sequencer {
 public:
  virtual ~Sequencer() = default;
  // Whether this validator takes proposals now.
  virtual bool leads() const = 0;
  // The validator that does, by node id; "" when none is known.
  virtual std::string leader() const = 0;
  // Orders `batch` (its encoding); the error is the status to answer the submitter with.
  virtual std::expected<void, grpc::Status> propose(std::string batch) = 0;
  // The term of an entry still in the log (0 when compacted away).
  virtual std::uint64_t term_of(std::uint64_t index) const = 0;
  // The first index still in the log; entries before it are in the snapshot only.
  virtual std::uint64_t first_index() const = 0;
  // An entry in the log at [first_index(), last applied].
  virtual const raft::Entry& entry(std::uint64_t index) const = 0;
  // When that entry committed, by the leader's wall clock (ns); 0 when not known.
  virtual std::int64_t committed_at(std::uint64_t index) const = 0;
  // Fills the protocol's part of GetClusterStatus (term, leader, commit, validators' roles).
  virtual void describe(market::ledger::v1::ClusterStatus& status) const = 0;
};

struct LedgerOptions {
  // Trades kept for GetTrade (and in every snapshot, so this bounds a snapshot's size: about
  // 100 bytes a trade).
  std::size_t trades_kept_max = 100'000;
  std::size_t waiting_submissions_max = 10'000;  // submissions waiting for their commit
  // What a batch may hold (the scenario's exchanges, symbols and accounts): the rest is refused
  // before it is proposed.
  ledger::Admission admission;
  // Each exchange's key: a batch carries its exchange's (metadata x-ledger-key) or is refused.
  std::vector<accounts::AccountKey> keys;
};

class LedgerService final : public market::ledger::v1::Ledger::CallbackService {
 public:
  // `ledger` is the state restored from the snapshot (or empty). The sequencer, the address book
  // and the clock must outlive the service.
  LedgerService(runtime::Strand strand, LedgerOptions options, ledger::Ledger ledger,
                Sequencer& sequencer, runtime::AddressBook& addresses, metrics::Registry& registry,
                const runtime::Clock& clock);

  // The calls, for clients.
  grpc::ServerUnaryReactor* SubmitTradeBatch(
      grpc::CallbackServerContext* context, const market::ledger::v1::TradeBatch* request,
      market::ledger::v1::SubmitTradeBatchResponse* response) override;
  grpc::ServerWriteReactor<market::ledger::v1::CommittedEntry>* StreamCommitted(
      grpc::CallbackServerContext* context,
      const market::ledger::v1::StreamCommittedRequest* request) override;
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const market::ledger::v1::GetLedgerAccountRequest* request,
                                       market::ledger::v1::LedgerAccount* response) override;
  grpc::ServerUnaryReactor* GetTrade(grpc::CallbackServerContext* context,
                                     const market::ledger::v1::GetTradeRequest* request,
                                     market::ledger::v1::TradeReport* response) override;
  grpc::ServerUnaryReactor* GetClusterStatus(
      grpc::CallbackServerContext* context,
      const market::ledger::v1::GetClusterStatusRequest* request,
      market::ledger::v1::ClusterStatus* response) override;

  // From the sequencer, on the strand.
  // A committed entry, in index order: applies it, answers its waiters, feeds the streams.
  void apply(const raft::Entry& entry);
  // A snapshot from the leader replaces the state; streams that needed what it covers end. The
  // error (the snapshot does not load) leaves the state as it was.
  std::expected<void, std::string> install(const std::string& data, std::uint64_t index);
  // This validator became the leader; `unapplied` are the entries after the applied index in
  // its log, which it will now commit: their batches count as in flight, so a retry waits for
  // them instead of proposing a batch twice.
  void gained_leadership(const std::vector<const raft::Entry*>& unapplied);
  // Leadership changed otherwise: proposals of a lost term may or may not commit, so their
  // waiters are failed (the client retries, and the ledger answers DUPLICATE if it did).
  void lost_leadership();
  // Answers what waits with UNAVAILABLE and ends the streams; later calls are refused.
  void stop();

  const ledger::Ledger& ledger() const { return ledger_; }

 private:
  using SubmitResponder = runtime::Responder<market::ledger::v1::SubmitTradeBatchResponse>;
  using EntryStream = runtime::Stream<market::ledger::v1::CommittedEntry>;
  struct Waiter {
    SubmitResponder responder;
    std::int64_t since_ns;
  };
  struct Subscriber {
    std::shared_ptr<EntryStream> stream;
    std::uint64_t next_index = 1;
  };
  struct Metrics {
    metrics::Counter* proposals;
    metrics::Counter* trades;
    metrics::Counter* duplicates;
    metrics::Counter* refused;
    metrics::Gauge* waiting;
    metrics::Histogram* commit_latency;
  };

  // `key`: the x-ledger-key the call carried.
  // Who submits: the ledger key in the call's metadata, and the node its TLS certificate names
  // (none without TLS). Both must be the same exchange.
  struct Caller {
    std::string key;
    std::optional<std::string> peer;
  };
  void submit(const market::ledger::v1::TradeBatch& request, const Caller& caller,
              SubmitResponder responder);
  void subscribe(std::shared_ptr<EntryStream> stream, std::uint64_t from,
                 std::list<Subscriber>::iterator& where);
  void answer_waiters(const std::string& exchange, std::uint64_t sequence,
                      const grpc::Status& status,
                      const market::ledger::v1::SubmitTradeBatchResponse& response,
                      const runtime::Metadata& trailing = {});
  void fail_waiters(const std::string& why);
  void feed(Subscriber& subscriber);
  runtime::Metadata leader_hint() const;

  runtime::Strand strand_;
  LedgerOptions options_;
  ledger::Ledger ledger_;
  Sequencer& sequencer_;
  runtime::AddressBook& addresses_;
  const runtime::Clock& clock_;
  bool stopped_ = false;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<Waiter>> waiters_;
  std::size_t waiting_ = 0;
  std::map<std::string, std::uint64_t> proposed_;  // exchange -> highest sequence in flight
  std::list<Subscriber> subscribers_;
  Metrics metrics_;
};

}  // namespace mkt::validatord
