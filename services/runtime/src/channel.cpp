#include "mkt/runtime/channel.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

namespace mkt::runtime {

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
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, initial_ms);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, config.reconnect_backoff_max_ms);
  }
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace mkt::runtime
