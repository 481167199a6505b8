#include "peer_transport.h"

#include <spdlog/spdlog.h>

#include "mkt/runtime/channel.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/run_folder.h"

namespace mkt::validatord {

namespace rpb = market::consensus::raft::v1;
using grpc::Status;

PeerTransport::PeerTransport(runtime::Strand strand, TransportOptions options, const Roster& roster,
                             runtime::AddressBook& addresses, metrics::Registry& registry,
                             OnFailure on_failure)
    : strand_(std::move(strand)),
      options_(std::move(options)),
      roster_(roster),
      addresses_(addresses),
      failures_(
          registry.counter("raft_peer_send_failures_total", "Envelopes to peers that failed.")),
      drops_(registry.counter("raft_peer_dropped_messages_total",
                              "Messages dropped: queue full or peer address unknown.")),
      on_failure_(std::move(on_failure)) {
  for (raft::NodeId id : roster_.ids()) {
    if (roster_.name_of(id) == options_.node_id) continue;
    Peer& peer = peers_[id];
    peer.id = id;
    peer.name = roster_.name_of(id);
    peer.reachable = &registry.gauge(
        "raft_peer_reachable",
        "0 while the last call to the peer failed, else 1 (1 on followers: they call the leader "
        "alone).",
        {{"peer", peer.name}});
    peer.reachable->set(1);
  }
}

void PeerTransport::send(const raft::Message& message) {
  auto it = peers_.find(message.to);
  if (it == peers_.end()) return;
  Peer& peer = it->second;
  if (peer.queue.size() >= options_.peer_queue_messages_max) {
    drops_.add();  // Raft recovers from a lost message
    return;
  }
  to_proto(message, roster_, peer.queue.emplace_back());
}

void PeerTransport::flush() {
  for (auto& [id, peer] : peers_) flush(peer);
}

void PeerTransport::stop() {
  stopped_ = true;
  for (auto& [id, peer] : peers_) {
    if (peer.in_flight && peer.call) peer.call->cancel();
  }
}

void PeerTransport::calling_all(bool calling) {
  if (calling == calling_all_) return;
  calling_all_ = calling;
  for (auto& [id, peer] : peers_) peer.reachable->set(1);  // a new view starts clear
}

// A channel to the peer at its address now; false (the queue dropped) while it has none.
bool PeerTransport::connect(Peer& peer) {
  if (peer.stub) return true;
  auto address = addresses_.address_of(peer.name);
  if (!address) {
    drops_.add(peer.queue.size());
    peer.queue.clear();
    on_failure_(peer.id, false);
    return false;
  }
  peer.address = *address;
  const runtime::ChannelConfig channel{.node_id = options_.node_id,
                                       .proxy_address = options_.proxy_address,
                                       .max_receive_message_bytes = options_.peer_message_bytes_max,
                                       .reconnect_backoff_max_ms = 500,
                                       .tls = options_.tls,
                                       .peer = peer.name};
  peer.stub = rpb::Raft::NewStub(runtime::make_channel(peer.address, channel));
  return true;
}

void PeerTransport::flush(Peer& peer) {
  if (peer.in_flight || peer.queue.empty() || stopped_ || !connect(peer)) return;
  auto envelope = std::make_shared<rpb::Envelope>();
  runtime::stamp(*envelope->mutable_header(), options_.node_id);
  std::size_t bytes = 0;
  std::size_t taken = 0;
  bool snapshot = false;
  while (taken < peer.queue.size() && (taken == 0 || bytes < options_.envelope_bytes_max)) {
    rpb::Message& message = peer.queue[taken++];
    bytes += message.ByteSizeLong();
    snapshot = snapshot || message.type() == rpb::MESSAGE_TYPE_SNAPSHOT;
    envelope->add_messages()->Swap(&message);
  }
  peer.queue.erase(peer.queue.begin(), peer.queue.begin() + static_cast<std::ptrdiff_t>(taken));
  peer.in_flight = true;
  auto* stub = peer.stub.get();
  peer.call = runtime::async_unary<market::common::v1::Ack>(
      strand_,
      {.timeout = snapshot ? options_.snapshot_timeout : options_.peer_timeout,
       .metadata = {{runtime::validator_key_metadata, options_.node_key}}},
      [stub, envelope](grpc::ClientContext* context, market::common::v1::Ack* out,
                       std::function<void(Status)> done) {
        stub->async()->Send(context, envelope.get(), out, std::move(done));
      },
      [this, id = peer.id, envelope, snapshot](Status status, market::common::v1::Ack) {
        on_sent(id, snapshot, status);
      });
}

void PeerTransport::on_sent(raft::NodeId id, bool snapshot, const Status& status) {
  Peer& peer = peers_.at(id);
  peer.in_flight = false;
  if (stopped_) return;
  peer.reachable->set(status.ok() || !calling_all_ ? 1 : 0);
  if (!status.ok()) {
    failures_.add();
    // It may have restarted elsewhere: look again, and reconnect if it moved.
    if (auto address = addresses_.address_of(peer.name); address && *address != peer.address) {
      peer.stub.reset();
    }
    spdlog::debug("send to {} failed: {}", peer.name, status.error_message());
    on_failure_(id, snapshot);
  }
  flush(peer);
}

}  // namespace mkt::validatord
