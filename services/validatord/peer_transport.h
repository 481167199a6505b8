#pragma once
// Raft messages to the other validators: one queue per peer (bounded: a full queue drops, and
// Raft recovers from a lost message), sent as envelopes of several messages with one call in
// flight per peer, through the proxy when there is one. Runs on the validator's strand.
//
// Its metrics: raft_peer_send_failures_total and raft_peer_dropped_messages_total, and per peer
// raft_peer_reachable{peer}: 0 while this validator's last call to that peer failed, else 1. Only
// a validator that calls every peer (the leader each heartbeat, a candidate each election) has a
// fresh view; a follower calls the leader alone, so on a follower every peer reads 1. The monitor
// reads a 0 of a peer that is up as a cut link.

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "convert.h"
#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "mkt/metrics/registry.h"
#include "mkt/raft/types.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/tls.h"
#include "mkt/runtime/unary.h"

namespace mkt::validatord {

struct TransportOptions {
  std::string node_id;        // this validator, as the proxy should see it
  std::string proxy_address;  // empty: connect to peers directly
  std::string node_key;       // this validator's key, sent with every envelope
  std::shared_ptr<const runtime::TlsIdentity> tls;  // mutual TLS with each peer, when set
  std::size_t peer_queue_messages_max = 10'000;
  std::size_t envelope_bytes_max = 8 << 20;
  int peer_message_bytes_max = 256 << 20;
  std::chrono::milliseconds peer_timeout{2000};
  std::chrono::milliseconds snapshot_timeout{30'000};
};

class PeerTransport {
 public:
  // On the strand, when what was queued for `peer` could not be delivered (`snapshot`: it
  // carried one).
  using OnFailure = std::function<void(raft::NodeId peer, bool snapshot)>;

  // The roster, the address book and the registry must outlive the transport.
  PeerTransport(runtime::Strand strand, TransportOptions options, const Roster& roster,
                runtime::AddressBook& addresses, metrics::Registry& registry, OnFailure on_failure);

  // On the strand. Queues a message for its peer (nothing for an unknown one).
  void send(const raft::Message& message);
  // On the strand. Sends what is queued to every peer without a call in flight.
  void flush();
  // On the strand. Cancels the calls in flight; nothing is sent any more.
  void stop();
  // On the strand, after every step: whether this validator calls every peer now (it leads or
  // campaigns); raft_peer_reachable is its view only then.
  void calling_all(bool calling);

 private:
  struct Peer {
    raft::NodeId id = raft::no_node;
    std::string name;
    std::string address;
    std::unique_ptr<market::consensus::raft::v1::Raft::Stub> stub;
    std::vector<market::consensus::raft::v1::Message> queue;
    bool in_flight = false;
    std::shared_ptr<runtime::UnaryCall> call;  // the one in flight, cancelled by stop()
    metrics::Gauge* reachable = nullptr;
  };

  void flush(Peer& peer);
  bool connect(Peer& peer);
  void on_sent(raft::NodeId id, bool snapshot, const grpc::Status& status);

  runtime::Strand strand_;
  TransportOptions options_;
  const Roster& roster_;
  runtime::AddressBook& addresses_;
  metrics::Counter& failures_;
  metrics::Counter& drops_;
  OnFailure on_failure_;
  std::map<raft::NodeId, Peer> peers_;
  bool stopped_ = false;
  bool calling_all_ = false;
};

}  // namespace mkt::validatord
