#include "mkt/runtime/channel.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

namespace mkt::runtime {

namespace {
constexpr int connect_timeout_ms = 2000;
}  // namespace

std::string proxy_uri(const ChannelConfig& config) {
  if (config.proxy_address.empty()) return "";
  return "http://" + config.node_id + "@" + config.proxy_address;
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& target,
                                            const ChannelConfig& config) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(config.max_receive_message_bytes);
  if (config.proxy_address.empty()) {
    // Direct: an http_proxy variable in the environment must not reroute the market's links.
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  } else {
    args.SetString("grpc.http_proxy", proxy_uri(config));
  }
  // Links are impaired on purpose; keep connections alive through quiet periods.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
  if (config.reconnect_backoff_max_ms > 0) {
    const int initial_ms = std::min(100, config.reconnect_backoff_max_ms);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, initial_ms);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, config.reconnect_backoff_max_ms);
    // gRPC takes the "minimum reconnect backoff" as the time one connection attempt may take: the
    // proxy's CONNECT, a TLS handshake and HTTP/2's SETTINGS are several round trips of a slow,
    // impaired link (Tokyo to London and back is 0.3 s), so it stays well above them. A refused
    // connection (the peer is down; the proxy answers 502) still fails at once.
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, connect_timeout_ms);
  }
  // The name the server's certificate must carry; the target's host (an address) never does.
  if (config.tls) args.SetSslTargetNameOverride(config.peer);
  return grpc::CreateCustomChannel(target, channel_credentials(config.tls.get()), args);
}

}  // namespace mkt::runtime
