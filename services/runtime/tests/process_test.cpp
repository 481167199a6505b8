// Checks graceful shutdown of a whole process: SIGTERM (or request_stop) stops the server while
// its call in flight still completes, runs the stop hooks in order, and run() returns 0.
#include "mkt/runtime/process.h"

#include <catch2/catch_test_macros.hpp>
#include <csignal>
#include <future>
#include <thread>

#include "echo_service.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/server.h"

using namespace std::chrono_literals;

namespace {

void stop_with_call_in_flight(const std::function<void(mkt::runtime::ProcessRunner&)>& stop) {
  mkt::runtime::ProcessRunner runner;
  mkt::test::EchoService service(runner.make_strand());
  mkt::runtime::RpcServer server({});
  server.add_service(&service);
  REQUIRE(server.start().has_value());
  std::vector<std::string> order;
  runner.stop_server_on_stop(server, 5s);
  runner.on_stop([&] { order.push_back("after server"); });
  auto strand = runner.make_strand();
  runner.on_stop_in(strand, [&] {
    CHECK(strand.running_in_this_thread());  // a hook for the strand's objects runs there
    order.push_back("on the strand");
  });

  auto exit_code = std::async(std::launch::async, [&] { return runner.run(); });
  // A blocking client on this thread: the call takes 300 ms on the server's strand.
  auto stub = mkt::test::v1::Echo::NewStub(mkt::runtime::make_channel(
      "127.0.0.1:" + std::to_string(server.port()), {"tester", "", 4 << 20}));
  auto reply = std::async(std::launch::async, [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    mkt::test::v1::SayRequest request;
    request.set_text("finish me");
    request.set_delay_ms(300);
    mkt::test::v1::SayReply out;
    const auto status = stub->Say(&ctx, request, &out);
    return status.ok() ? out.text() : "error: " + status.error_message();
  });
  REQUIRE(service.wait_for_calls(1, 5s));
  stop(runner);
  REQUIRE(exit_code.wait_for(10s) == std::future_status::ready);
  CHECK(exit_code.get() == 0);
  CHECK(reply.get() == "finish me");
  CHECK(order == std::vector<std::string>{"after server", "on the strand"});
}

}  // namespace

TEST_CASE("SIGTERM drains the call in flight and stops the process cleanly") {
  stop_with_call_in_flight([](auto&) { std::raise(SIGTERM); });
}

TEST_CASE("SIGINT does the same") {
  stop_with_call_in_flight([](auto&) { std::raise(SIGINT); });
}

TEST_CASE("request_stop does the same from any thread") {
  stop_with_call_in_flight([](auto& runner) { runner.request_stop(); });
}
