#include "mkt/runtime/server.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

namespace mkt::runtime {

RpcServer::RpcServer(ServerOptions options) : options_(std::move(options)) {}

RpcServer::~RpcServer() {
  if (server_) shutdown(std::chrono::milliseconds(0));
}

void RpcServer::add_service(grpc::Service* service) {
  services_.push_back(service);
}

std::expected<int, std::string> RpcServer::start() {
  // The built-in health service; process-wide switch, so set before every build.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen_address, server_credentials(options_.tls.get()), &port_);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  // gRPC shares ports by default (SO_REUSEPORT): a second process on our port must fail instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto* service : services_) builder.RegisterService(service);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return std::unexpected("cannot listen on " + options_.listen_address +
                           " (address in use, or not an address of this host?)");
  }
  server_->GetHealthCheckService()->SetServingStatus(true);
  return port_;
}

void RpcServer::shutdown(std::chrono::milliseconds drain) {
  if (!server_) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + drain);
  server_->Wait();
  server_.reset();
}

}  // namespace mkt::runtime
