#pragma once
// A gRPC server for one process: callback services, the standard health service
// (grpc.health.v1), a bound port (port 0 picks a free one), and shutdown that drains calls in
// flight for a bounded time and then cancels them.

#include <chrono>
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "mkt/runtime/tls.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace mkt::runtime {

struct ServerOptions {
  // host:port; port 0 binds a free port (see RpcServer::port()).
  std::string listen_address = "127.0.0.1:0";
  int max_receive_message_bytes = 4 << 20;
  // With an identity, mutual TLS: only clients with a certificate from the run's CA connect
  // (mkt/runtime/tls.h). Without, plaintext.
  std::shared_ptr<const TlsIdentity> tls = {};
};

class RpcServer {
 public:
  explicit RpcServer(ServerOptions options);
  ~RpcServer();  // shuts down with no drain if still running
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Before start(); at least one (gRPC will not start a server with only the health service).
  // The service must outlive the server.
  void add_service(grpc::Service* service);
  // Binds and starts serving; health reports SERVING. Returns the bound port or why it failed
  // ("cannot listen on 127.0.0.1:5000 (address in use?)").
  std::expected<int, std::string> start();
  int port() const { return port_; }

  // Reports NOT_SERVING, stops accepting calls, lets calls in flight finish for up to `drain`,
  // cancels the rest, and returns when every call is done. Blocks: do not call it from the strand
  // or io_context thread that handlers need (ProcessRunner calls it from a thread of its own).
  void shutdown(std::chrono::milliseconds drain);

 private:
  ServerOptions options_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace mkt::runtime
