#include "mkt/runtime/channel.h"

#include <grpcpp/grpcpp.h>

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
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

}  // namespace mkt::runtime
