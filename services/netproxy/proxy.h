#pragma once
// The data plane of netproxy: an HTTP CONNECT proxy that moves each connection's bytes through
// the link model (libs/netmodel/links.h).
//
// A client connects, sends `CONNECT <host>:<port>` with Proxy-Authorization naming its node
// (address_book.h), and the proxy connects to the target and answers 200. From then on, each
// chunk read from one side is offered to the model for the link of its direction (source ->
// destination for what the client sends, the reverse for the answers) and written to the other
// side at the time the model gives, in order. Refusals, each logged and counted by reason:
//   400 a malformed request, 405 not CONNECT, 431 headers over 8 KiB, 407 no node in
//   Proxy-Authorization, 403 an unknown node or a target outside the scenario or unreachable,
//   502 the target does not answer, 503 too many connections (ProxyOptions::connections_max) or
//   a reset partition between the two nodes, and a client silent for request_timeout is closed.
//
// Back-pressure: a direction stops reading while `window_bytes` of it wait for their time, or
// while a chunk dropped at a full queue waits to be offered again, so TCP flow control slows the
// sender, as a real network's would. Partitions: a chunk due on a black-holed link is held (and
// so is all behind it) until the link heals; a reset cut resets both sockets. A link shared with
// the monitor or any node without a site is not shaped.
//
// Everything runs on one io_context thread: the model is not thread-safe, and one thread keeps
// a relay's added latency low. The control plane reaches the proxy by posting to that thread.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>

#include "mkt/metrics/registry.h"
#include "mkt/netmodel/links.h"
#include "mkt/runtime/address_book.h"
#include "mkt/runtime/clock.h"

namespace mkt::netproxy {

using runtime::AddressBook;

struct ProxyOptions {
  std::size_t connections_max = 4096;
  std::chrono::milliseconds request_timeout{5000};  // to send the CONNECT request
  std::chrono::milliseconds connect_timeout{5000};  // for the target to accept
  std::size_t read_bytes = 64 * 1024;               // one chunk at most
  std::size_t window_bytes = 4 << 20;               // waiting bytes per direction
  // The time the link model is given. Release timers wait on the real steady clock, so a
  // replacement keeps its steady readings on that scale (an offset, not a frozen clock).
  const runtime::Clock* clock = &runtime::system_clock();
};

// A link's counters in the registry, made when the link first carries a connection.
struct LinkCounters {
  metrics::Counter* bytes = nullptr;           // carried source -> destination
  metrics::Gauge* connections_open = nullptr;  // opened by source to destination
  metrics::Counter* connections_total = nullptr;
  metrics::Histogram* applied_delay = nullptr;  // per chunk, from read to due
  metrics::Counter* segments_lost = nullptr;
  metrics::Counter* queue_drops = nullptr;
  metrics::Gauge* held_bytes = nullptr;  // waiting behind a black hole now
};

class Proxy {
 public:
  // The model, book and registry must outlive the proxy.
  Proxy(boost::asio::io_context& io, netmodel::LinkModel& model, AddressBook& book,
        metrics::Registry& registry, ProxyOptions options = {});
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Binds host:port (port 0: a free one) and serves. Returns the port, or why it failed.
  std::expected<int, std::string> start(const std::string& listen_address);
  // Stops accepting and closes every connection; thread-safe.
  void stop();

  // On the io thread, after the model's cuts changed: resets connections across a reset cut and
  // delivers bytes held on links that are no longer cut.
  void apply_cuts();
  // On the io thread: null until the link has carried a connection.
  const LinkCounters* counters(netmodel::LinkId link) const;
  std::size_t open_connections() const;

  struct State;  // the acceptor and what its sessions share (proxy.cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace mkt::netproxy
