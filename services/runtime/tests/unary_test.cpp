// Checks the unary gRPC-to-Asio bridge with a real server and client over loopback on port 0:
// handlers run on their strand, deadlines expire, clients cancel, a dropped handler still answers,
// health reports SERVING, and shutdown drains a call in flight or cancels it after the drain bound.
// The call cases run twice: on an Asio strand, and on a runtime::Serial, whose idle handlers run
// in place on gRPC's thread (and may answer before the method returns).
#include <boost/asio/post.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#include <future>
#include <thread>

#include "echo_service.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/io_thread.h"

using namespace std::chrono_literals;
using mkt::runtime::Serial;
using mkt::test::CallResult;
using mkt::test::Strand;

namespace {

template <class Executor>
Executor executor_on(boost::asio::io_context& io) {
  if constexpr (std::is_same_v<Executor, Serial>) {
    return Serial(io);
  } else {
    return boost::asio::make_strand(io);
  }
}

// A server with the Echo service on its own io_context thread, and a client channel to it.
template <class Executor = Strand>
struct Fixture {
  mkt::testing::IoThread io;
  Executor executor = executor_on<Executor>(io.io());
  mkt::test::BasicEchoService<Executor> service{executor};
  mkt::runtime::RpcServer server{{}};
  std::unique_ptr<mkt::test::v1::Echo::Stub> stub;

  Fixture() {
    server.add_service(&service);
    const auto port = server.start();
    REQUIRE(port.has_value());
    stub = mkt::test::v1::Echo::NewStub(
        mkt::runtime::make_channel("127.0.0.1:" + std::to_string(*port), {"tester", "", 4 << 20}));
  }
  ~Fixture() {
    server.shutdown(0ms);
    io.stop();
  }

  // Starts a call; the future is fulfilled on the io_context thread.
  std::pair<std::shared_ptr<mkt::runtime::UnaryCall>, std::future<CallResult>> say(
      const std::string& text, std::int64_t delay_ms, std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<CallResult>>();
    auto future = promise->get_future();
    mkt::test::v1::SayRequest request;
    request.set_text(text);
    request.set_delay_ms(delay_ms);
    auto call = mkt::runtime::async_unary<mkt::test::v1::SayReply>(
        io.io().get_executor(), {timeout},
        [&](grpc::ClientContext* ctx, mkt::test::v1::SayReply* out, auto done) {
          stub->async()->Say(ctx, &request, out, std::move(done));
        },
        [promise](grpc::Status status, mkt::test::v1::SayReply reply) {
          promise->set_value({std::move(status), reply.text()});
        });
    return {call, std::move(future)};
  }
};

CallResult get(std::future<CallResult>& future) {
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

}  // namespace

TEMPLATE_TEST_CASE("a unary call is answered by a handler on its strand", "", Strand, Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("hello", 0, 5s);
  const CallResult result = get(future);
  CHECK(result.status.ok());
  CHECK(result.text == "hello");
  CHECK(f.service.always_on_strand());
  // An idle Serial runs the handler on the gRPC thread that took the call; a strand never does.
  const auto io_thread = f.io.run([] { return std::this_thread::get_id(); });
  CHECK((f.service.handler_thread() == io_thread) == std::is_same_v<TestType, Strand>);
}

TEMPLATE_TEST_CASE("a handler may answer later, from a timer on its strand", "", Strand, Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("later", 50, 5s);
  CHECK(get(future).text == "later");
}

TEMPLATE_TEST_CASE("a call past its deadline fails with DEADLINE_EXCEEDED and the handler sees it",
                   "", Strand, Serial) {
  Fixture<TestType> f;
  const auto start = std::chrono::steady_clock::now();
  auto [call, future] = f.say("slow", -1, 200ms);
  const CallResult result = get(future);
  CHECK(result.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(f.service.wait_for_calls(1, 5s));
  const auto parked = f.service.parked();
  REQUIRE(parked.size() == 1);
  // The server learns of the expiry on its own; wait for it with a deadline.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!parked[0]->cancelled() && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  CHECK(parked[0]->cancelled());
  // Answering after the fact is refused and harmless.
  CHECK_FALSE(parked[0]->finish(grpc::Status::OK));
}

TEMPLATE_TEST_CASE("a call gone before its handler runs leaves the late handler harmless", "",
                   Strand, Serial) {
  // The strand is busy while the call's deadline passes and the server finishes and deletes the
  // call; the handler runs after that. (agentd crashed here: the handler's answer side read the
  // deleted call.)
  Fixture<TestType> f;
  std::promise<void> gate;
  boost::asio::post(f.executor, [waiting = gate.get_future().share()] { waiting.wait(); });
  // A blocking call: the bridge's client side would complete on the blocked io_context.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 100ms);
  mkt::test::v1::SayRequest request;
  request.set_text("late");
  request.set_delay_ms(-1);
  mkt::test::v1::SayReply reply;
  CHECK(f.stub->Say(&context, request, &reply).error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  f.server.shutdown(0ms);  // returns once every call is done, its reactor deleted
  gate.set_value();
  REQUIRE(f.service.wait_for_calls(1, 5s));  // the handler ran
  const auto parked = f.service.parked();
  REQUIRE(parked.size() == 1);
  CHECK(parked[0]->cancelled());
  CHECK_FALSE(parked[0]->finish(grpc::Status::OK));
}

TEMPLATE_TEST_CASE("a client can cancel a call in flight", "", Strand, Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("cancel me", -1, 10s);
  REQUIRE(f.service.wait_for_calls(1, 5s));
  call->cancel();
  CHECK(get(future).status.error_code() == grpc::StatusCode::CANCELLED);
}

TEMPLATE_TEST_CASE("a handler that drops its call still answers, with INTERNAL", "", Strand,
                   Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("drop", 0, 5s);
  const CallResult result = get(future);
  CHECK(result.status.error_code() == grpc::StatusCode::INTERNAL);
  CHECK(result.status.error_message() == "the handler dropped the call");
}

TEST_CASE("the health service reports SERVING") {
  Fixture<> f;
  auto health = grpc::health::v1::Health::NewStub(mkt::runtime::make_channel(
      "127.0.0.1:" + std::to_string(f.server.port()), {"tester", "", 4 << 20}));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(health->Check(&ctx, request, &response).ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

TEMPLATE_TEST_CASE("shutdown lets a call in flight finish, then refuses new ones", "", Strand,
                   Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("in flight", 300, 10s);
  REQUIRE(f.service.wait_for_calls(1, 5s));
  std::thread stopper([&] { f.server.shutdown(10s); });
  const CallResult result = get(future);
  stopper.join();
  CHECK(result.status.ok());
  CHECK(result.text == "in flight");
  auto [late, late_future] = f.say("too late", 0, 2s);
  CHECK(get(late_future).status.error_code() == grpc::StatusCode::UNAVAILABLE);
}

TEMPLATE_TEST_CASE("shutdown cancels a call that outlives the drain bound", "", Strand, Serial) {
  Fixture<TestType> f;
  auto [call, future] = f.say("never", -1, 30s);
  REQUIRE(f.service.wait_for_calls(1, 5s));
  const auto start = std::chrono::steady_clock::now();
  f.server.shutdown(200ms);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 200ms);
  CHECK(took < 10s);
  const auto code = get(future).status.error_code();
  CHECK((code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNAVAILABLE));
}

TEST_CASE("a port in use is a clear error") {
  Fixture<> f;
  mkt::runtime::RpcServer second({"127.0.0.1:" + std::to_string(f.server.port())});
  const auto started = second.start();
  REQUIRE_FALSE(started.has_value());
  CHECK(
      started.error().starts_with("cannot listen on 127.0.0.1:" + std::to_string(f.server.port())));
}
