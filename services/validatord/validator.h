#pragma once
// One validator: a Raft node (libs/raft) replicating the trade ledger (libs/ledger), its storage
// (storage.h), the transport to its peers, and the Ledger and Raft gRPC services.
//
// Everything runs on one strand. Calls and messages are stepped into the node; one Ready loop
// (process_ready, posted once per strand turn so that what arrived together is persisted with
// one sync) persists, sends, applies and advances, in the order libs/raft/node.h requires. A
// submitted batch is answered when it is applied, from the entry that carries it, so an OK answer
// means it is committed on a quorum's disks.
//
// Peers: at most one Send call in flight to each; messages queued meanwhile go in the next call.
// A failed call is a lost envelope (Raft recovers), reported to the node so it probes that peer.

#include <grpcpp/grpcpp.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/ledger/ledger.h"
#include "mkt/metrics/registry.h"
#include "mkt/raft/node.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/stream.h"
#include "mkt/runtime/unary.h"
#include "peer_transport.h"
#include "storage.h"
#include "storage_writer.h"

namespace mkt::validatord {

using runtime::Strand;

struct ValidatorOptions {
  std::string node_id;
  std::vector<std::string> validators;  // every validator, in scenario order
  std::chrono::milliseconds tick{100};  // one Raft tick; the heartbeat interval
  int election_ticks = 10;
  std::uint64_t seed = 1;
  // Snapshot the ledger and compact the log after this many applied entries or log bytes.
  std::uint64_t compact_entries = 10'000;
  std::uint64_t compact_wal_bytes = 64 << 20;
  // Trades kept for GetTrade (and in every snapshot, so this bounds a snapshot's size: about
  // 100 bytes a trade).
  std::size_t trades_kept_max = 100'000;
  std::size_t waiting_submissions_max = 10'000;  // submissions waiting for their commit
  TransportOptions transport;                    // to the peers (its node_id is set from node_id)
};

class Validator {
 public:
  Validator(Strand strand, ValidatorOptions options, runtime::AddressBook& addresses,
            RaftStorage& storage, raft::Restore restore, metrics::Registry& registry);
  ~Validator();

  // The gRPC services to register: Ledger (clients) and Raft (peers).
  grpc::Service* ledger_service();
  grpc::Service* raft_service();

  // On the strand: starts ticking. stop() cancels the timer, answers waiting submissions with
  // UNAVAILABLE and ends the committed-entry streams.
  void start();
  void stop();

  // Ledger (called by ledger_service())
  grpc::ServerUnaryReactor* SubmitTradeBatch(
      grpc::CallbackServerContext* context, const market::ledger::v1::TradeBatch* request,
      market::ledger::v1::SubmitTradeBatchResponse* response);
  grpc::ServerWriteReactor<market::ledger::v1::CommittedEntry>* StreamCommitted(
      grpc::CallbackServerContext* context,
      const market::ledger::v1::StreamCommittedRequest* request);
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const market::ledger::v1::GetLedgerAccountRequest* request,
                                       market::ledger::v1::LedgerAccount* response);
  grpc::ServerUnaryReactor* GetTrade(grpc::CallbackServerContext* context,
                                     const market::ledger::v1::GetTradeRequest* request,
                                     market::ledger::v1::TradeReport* response);
  grpc::ServerUnaryReactor* GetClusterStatus(
      grpc::CallbackServerContext* context,
      const market::ledger::v1::GetClusterStatusRequest* request,
      market::ledger::v1::ClusterStatus* response);

  // Raft (called by raft_service())
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* context,
                                 const market::consensus::raft::v1::Envelope* request,
                                 market::common::v1::Ack* response);

 private:
  using SubmitResponder = runtime::Responder<market::ledger::v1::SubmitTradeBatchResponse>;
  using EntryStream = runtime::Stream<market::ledger::v1::CommittedEntry>;
  struct Waiter {
    SubmitResponder responder;
    std::chrono::steady_clock::time_point since;
  };
  struct Subscriber {
    std::shared_ptr<EntryStream> stream;
    std::uint64_t next_index = 1;
  };
  struct Metrics {
    metrics::Counter* proposals;
    metrics::Counter* applied_entries;
    metrics::Counter* trades;
    metrics::Counter* duplicates;
    metrics::Counter* rejected;
    metrics::Counter* snapshots_taken;
    metrics::Counter* snapshots_installed;
    metrics::Counter* leader_changes;
    metrics::Gauge* term;
    metrics::Gauge* commit_index;
    metrics::Gauge* is_leader;
    metrics::Gauge* waiting;
    metrics::Histogram* commit_latency;
    metrics::Histogram* sync_latency;
  };

  void submit(const market::ledger::v1::TradeBatch& request, SubmitResponder responder);
  void receive(const market::consensus::raft::v1::Envelope& envelope);
  void tick();
  void schedule_ready();
  void process_ready();
  void finish_ready(const raft::Ready& ready, bool leader);
  void install_snapshot(const raft::Snapshot& snapshot);
  void apply(const raft::Entry& entry);
  void answer_waiters(const std::string& exchange, std::uint64_t sequence,
                      const grpc::Status& status,
                      const market::ledger::v1::SubmitTradeBatchResponse& response,
                      const runtime::Metadata& trailing = {});
  void publish(const raft::Entry& entry);
  void feed(Subscriber& subscriber);
  void maybe_compact();
  void after_step();
  void fail_waiters(const std::string& why);
  void track_inherited_batches();
  runtime::Metadata leader_hint();
  [[noreturn]] void fatal(const std::string& what);

  class LedgerApi;
  class RaftApi;

  Strand strand_;
  ValidatorOptions options_;
  Roster roster_;
  runtime::AddressBook& addresses_;
  StorageWriter writer_;
  std::uint64_t wal_bytes_;  // as the writer last reported it
  bool writing_ = false;     // a Ready or a compaction is with the writer
  raft::Node node_;
  ledger::Ledger ledger_;
  PeerTransport transport_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point next_tick_;
  bool ready_posted_ = false;
  bool stopped_ = false;
  raft::NodeId known_leader_ = raft::no_node;
  std::uint64_t known_term_ = 0;
  std::map<std::pair<std::string, std::uint64_t>, std::vector<Waiter>> waiters_;
  std::size_t waiting_ = 0;
  std::map<std::string, std::uint64_t> proposed_;  // exchange -> highest sequence in flight
  std::list<Subscriber> subscribers_;
  Metrics metrics_;
  std::unique_ptr<LedgerApi> ledger_api_;
  std::unique_ptr<RaftApi> raft_api_;
};

}  // namespace mkt::validatord
