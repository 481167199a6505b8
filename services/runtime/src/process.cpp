#include "mkt/runtime/process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <csignal>
#include <future>

#include "grpc/health/v1/health.grpc.pb.h"
#include "mkt/runtime/client_calls.h"
#include "mkt/runtime/server.h"

namespace mkt::runtime {
namespace {

// gRPC's callback API runs on a process-wide completion queue that a channel references from its
// first callback call until it is destroyed; when the count falls to zero gRPC shuts the queue
// down and deletes it, racing its own polling threads: agentd aborted at exit 2 times in 8 loaded
// runs of its process tests ('ref_counted.h:183 assertion failed: prior > 0' in
// grpc_cq_internal_unref, no frame of ours). One channel that made a callback call and is never
// destroyed keeps the count above zero, so that teardown never runs. It is held through a static
// pointer, which LeakSanitizer sees as a root: held, not lost.
std::shared_ptr<grpc::Channel>* held_channel = nullptr;

void hold_callback_queue() {
  static const bool held = [] {
    auto* channel = held_channel = new std::shared_ptr<grpc::Channel>(  // never deleted
        grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()));
    auto stub = grpc::health::v1::Health::NewStub(*channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now());  // answered at once, with an error
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    std::promise<void> done;
    stub->async()->Check(&context, &request, &response, [&](grpc::Status) { done.set_value(); });
    done.get_future().wait();
    return true;
  }();
  (void)held;
}

}  // namespace

ProcessRunner::ProcessRunner() : signals_(io_, SIGINT, SIGTERM) {
  hold_callback_queue();
}

ProcessRunner::~ProcessRunner() {
  if (stopper_.joinable()) stopper_.join();
  // gRPC client calls post their ends to io_: it must outlive them (client_calls.h).
  if (!ClientCalls::instance().wait_idle(std::chrono::seconds(5))) {
    spdlog::warn("gRPC client calls still open after 5 s; stopping anyway");
  }
}

void ProcessRunner::on_stop_in(boost::asio::any_io_executor strand, std::function<void()> hook) {
  on_stop([strand = std::move(strand), hook = std::move(hook)] {
    std::promise<void> done;
    boost::asio::post(strand, [&] {
      hook();
      done.set_value();
    });
    done.get_future().wait();
  });
}

void ProcessRunner::stop_server_on_stop(RpcServer& server, std::chrono::milliseconds drain) {
  on_stop([&server, drain] { server.shutdown(drain); });
}

int ProcessRunner::run() {
  auto work = boost::asio::make_work_guard(io_);
  signals_.async_wait([this](const boost::system::error_code& error, int signal) {
    if (error) return;  // cancelled: a stop requested another way
    spdlog::info("received {}, stopping", signal == SIGINT ? "SIGINT" : "SIGTERM");
    begin_stop();
  });
  io_.run();
  if (stopper_.joinable()) stopper_.join();
  return 0;
}

void ProcessRunner::request_stop() {
  boost::asio::post(io_, [this] { begin_stop(); });
}

void ProcessRunner::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  signals_.cancel();
  // Hooks may block on work that needs this io_context, so they run elsewhere; when they are done
  // the io_context is stopped, which ends run().
  stopper_ = std::thread([this] {
    for (auto& hook : hooks_) hook();
    io_.stop();
  });
}

}  // namespace mkt::runtime
