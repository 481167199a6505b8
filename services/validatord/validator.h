#pragma once
// One validator's Raft driver: a Raft node (libs/raft) ordering the batches of the Ledger service
// (ledger_service.h), with its storage writer (storage_writer.h), the transport to its peers
// (peer_transport.h) and the Raft service they call (raft_service.h).
//
// Everything runs on one strand. Calls and messages are stepped into the node; one Ready loop
// (process_ready, posted once per strand turn so that what arrived together is persisted with
// one sync) persists, sends, applies and advances, in the order libs/raft/node.h requires.
// Committed entries go to the Ledger service, which answers their submitters.
//
// Peers: at most one Send call in flight to each; messages queued meanwhile go in the next call.
// A failed call is a lost envelope (Raft recovers), reported to the node so it probes that peer.

#include <grpcpp/grpcpp.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "ledger_service.h"
#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/metrics/registry.h"
#include "mkt/raft/node.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/telemetry.h"
#include "peer_transport.h"
#include "raft_service.h"
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
  LedgerOptions ledger;
  TransportOptions transport;  // to the peers (its node_id is set from node_id)
  // Every validator's key: a peer's Raft messages carry its own (metadata x-validator-key).
  std::vector<accounts::AccountKey> validator_keys;
  // Where leader changes are published (on the validator's strand); none when null.
  runtime::TelemetryService* telemetry = nullptr;
};

class Validator final : private Sequencer {
 public:
  Validator(Strand strand, ValidatorOptions options, runtime::AddressBook& addresses,
            RaftStorage& storage, raft::Restore restore, metrics::Registry& registry,
            const runtime::Clock& clock = runtime::system_clock());
  ~Validator() override;

  // The gRPC services to register: Ledger (clients) and Raft (peers).
  grpc::Service* ledger_service() { return &ledger_; }
  grpc::Service* raft_service() { return &raft_; }

  // On the strand: starts ticking. stop() cancels the timer, answers waiting submissions with
  // UNAVAILABLE and ends the committed-entry streams.
  void start();
  void stop();

 private:
  struct Metrics {
    metrics::Counter* applied_entries;
    metrics::Counter* rejected;
    metrics::Counter* snapshots_taken;
    metrics::Counter* snapshots_installed;
    metrics::Counter* leader_changes;
    metrics::Gauge* term;
    metrics::Gauge* commit_index;
    metrics::Gauge* is_leader;
    metrics::Histogram* sync_latency;
  };

  // Sequencer, for the Ledger service.
  bool leads() const override;
  std::string leader() const override;
  std::expected<void, grpc::Status> propose(std::string batch) override;
  std::uint64_t term_of(std::uint64_t index) const override;
  std::uint64_t first_index() const override;
  const raft::Entry& entry(std::uint64_t index) const override;
  std::int64_t committed_at(std::uint64_t index) const override;
  void describe(market::ledger::v1::ClusterStatus& status) const override;

  void receive(const market::consensus::raft::v1::Envelope& envelope);
  void tick();
  void schedule_ready();
  void process_ready();
  void saved(const raft::Ready& ready, bool leader,
             std::expected<std::uint64_t, std::string> written);
  void finish_ready(const raft::Ready& ready, bool leader);
  void maybe_compact();
  void after_step();
  void publish_leader();
  [[noreturn]] void fatal(const std::string& what);

  Strand strand_;
  ValidatorOptions options_;
  Roster roster_;
  const runtime::Clock& clock_;
  StorageWriter writer_;
  std::uint64_t wal_bytes_;  // as the writer last reported it
  bool writing_ = false;     // a Ready or a compaction is with the writer
  raft::Node node_;
  PeerTransport transport_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point next_tick_;
  bool ready_posted_ = false;
  bool stopped_ = false;
  raft::NodeId known_leader_ = raft::no_node;
  std::uint64_t known_term_ = 0;
  Metrics metrics_;
  LedgerService ledger_;
  RaftService raft_;
};

}  // namespace mkt::validatord
