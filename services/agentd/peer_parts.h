#pragma once
// The agent's peer connections and subscribers (peers.cpp); a header so that agent.cpp sees
// complete types where Agent is destroyed.

#include <array>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agent.h"
#include "market/peer/v1/peer.grpc.pb.h"
#include "mkt/runtime/client_stream.h"
#include "mkt/runtime/stream.h"

namespace mkt::agentd {

inline constexpr std::chrono::milliseconds subscribe_retry_first{200};

// The coalition's counts under their metric labels (agent_coordination_events{event=...}).
inline std::array<std::pair<const char*, std::uint64_t>, 9> coordination_events(
    const agents::Coordination::Counts& c) {
  return {{{"proposed", c.proposed},
           {"committed", c.committed},
           {"aborted", c.aborted},
           {"timed_out", c.timed_out},
           {"legs_missed", c.legs_missed},
           {"joined", c.joined},
           {"refused", c.refused},
           {"joined_committed", c.joined_committed},
           {"joined_aborted", c.joined_aborted}}};
}

// A peer's service, reached through the proxy; signal copies wait here for it.
struct Agent::PeerLink {
  std::string id;
  std::string address;
  std::unique_ptr<market::peer::v1::Peer::Stub> stub;
  std::deque<market::peer::v1::Signal> queue;
  bool in_flight = false;
  bool stale = false;  // a call failed: look the address up again before the next
};

// A subscriber of this broker.
struct Agent::Subscriber {
  std::shared_ptr<runtime::Stream<market::peer::v1::Signal>> stream;
  std::vector<std::string> symbols;  // empty: all
  std::uint32_t confidence_ppm_min = 0;
};

// This agent's subscription to a broker.
struct Agent::Subscription {
  explicit Subscription(std::string broker_, Strand& strand)
      : broker(std::move(broker_)), retry(strand) {}
  std::string broker;
  std::shared_ptr<runtime::ClientCall<market::peer::v1::SubscribeRequest>> call;
  boost::asio::steady_timer retry;
  std::chrono::milliseconds backoff = subscribe_retry_first;
};

}  // namespace mkt::agentd
