#pragma once
// Client channels. Every connection between two processes of the market goes through the network
// proxy when the scenario has one: the channel sets grpc.http_proxy to http://<node-id>@<proxy>,
// so gRPC opens each connection with "CONNECT <target>" and a Proxy-Authorization header carrying
// the node id, and the proxy knows the source and destination of every link.

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "mkt/runtime/tls.h"

namespace mkt::runtime {

struct ChannelConfig {
  // This process's node id: who the proxy attributes the connection to.
  std::string node_id;
  // host:port of the proxy; empty connects directly (and ignores any http_proxy environment).
  std::string proxy_address;
  int max_receive_message_bytes = 4 << 20;
  // When set, reconnecting to a peer that went away waits at most this long between attempts
  // (gRPC's default grows to two minutes, far too slow for a restarted validator).
  int reconnect_backoff_max_ms = 0;
  // With an identity, the channel is mutual TLS (mkt/runtime/tls.h): it presents this node's
  // certificate and accepts only a server whose certificate names `peer`, a node id or a role's
  // name (role_name("validator")). Without, plaintext.
  std::shared_ptr<const TlsIdentity> tls = {};
  std::string peer = {};
};

// A channel to `target` (host:port). Connects lazily.
std::shared_ptr<grpc::Channel> make_channel(const std::string& target, const ChannelConfig& config);

// The grpc.http_proxy value for a config: "http://<node-id>@<proxy>", or "" without a proxy.
std::string proxy_uri(const ChannelConfig& config);

}  // namespace mkt::runtime
