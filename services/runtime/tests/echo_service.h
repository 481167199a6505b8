#pragma once
// The Echo service the runtime tests serve: answers after request.delay_ms on its strand (through
// an Asio timer, never a sleep), or keeps the call unanswered when the delay is negative. It
// counts calls received so a test can wait until a call is in flight before acting on it. The
// strand is an Asio strand, or a runtime::Serial (BasicEchoService<Serial>).

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "echo.grpc.pb.h"
#include "mkt/runtime/serial.h"
#include "mkt/runtime/unary.h"

namespace mkt::test {

using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using EchoResponder = runtime::Responder<mkt::test::v1::SayReply>;

template <class Executor>
class BasicEchoService final : public mkt::test::v1::Echo::CallbackService {
 public:
  explicit BasicEchoService(Executor strand) : strand_(std::move(strand)) {}

  grpc::ServerUnaryReactor* Say(grpc::CallbackServerContext* context,
                                const mkt::test::v1::SayRequest* request,
                                mkt::test::v1::SayReply* reply) override {
    return runtime::serve_on(strand_, context, request, reply,
                             [this](const mkt::test::v1::SayRequest& req, EchoResponder responder) {
                               on_say(req, std::move(responder));
                             });
  }

  // Waits (with a deadline) until `count` calls have reached the handler.
  bool wait_for_calls(int count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return received_ >= count; });
  }
  // Whether the handler ran on its strand every time.
  bool always_on_strand() const { return always_on_strand_; }
  // The thread the last handler ran on.
  std::thread::id handler_thread() {
    std::lock_guard lock(mutex_);
    return handler_thread_;
  }
  // The unanswered calls (delay < 0), to look at their cancellation flags.
  std::vector<std::shared_ptr<EchoResponder>> parked() {
    std::lock_guard lock(mutex_);
    return parked_;
  }

 private:
  void on_say(const mkt::test::v1::SayRequest& request, EchoResponder responder) {
    if (!strand_.running_in_this_thread()) always_on_strand_ = false;
    mkt::test::v1::SayReply reply;
    reply.set_text(request.text());
    if (request.text() == "drop") {
      notify();
      return;  // the responder is dropped unanswered
    }
    if (request.delay_ms() < 0) {
      std::lock_guard lock(mutex_);
      parked_.push_back(std::make_shared<EchoResponder>(std::move(responder)));
    } else if (request.delay_ms() == 0) {
      responder.finish(grpc::Status::OK, reply);
    } else {
      auto timer = std::make_shared<boost::asio::steady_timer>(
          strand_, std::chrono::milliseconds(request.delay_ms()));
      timer->async_wait(
          [timer, reply, r = std::make_shared<EchoResponder>(std::move(responder))](
              const boost::system::error_code&) { r->finish(grpc::Status::OK, reply); });
    }
    notify();
  }

  void notify() {
    {
      std::lock_guard lock(mutex_);
      ++received_;
      handler_thread_ = std::this_thread::get_id();
    }
    cv_.notify_all();
  }

  Executor strand_;
  std::mutex mutex_;  // test code: shared with the test thread
  std::condition_variable cv_;
  int received_ = 0;
  std::thread::id handler_thread_;
  bool always_on_strand_ = true;
  std::vector<std::shared_ptr<EchoResponder>> parked_;
};

using EchoService = BasicEchoService<Strand>;

// Makes a Say call through the bridge and returns a future of (status, reply text).
struct CallResult {
  grpc::Status status;
  std::string text;
};

}  // namespace mkt::test
