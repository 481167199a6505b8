// The telemetry service over a real server on a free port: a subscriber gets only the kinds it
// asked for, numbered by every event the process made; an unknown kind is refused; a reader that
// falls behind loses events (a seq gap) instead of being cut off; GetMetrics returns the registry.

#include "mkt/runtime/telemetry.h"

#include <catch2/catch_test_macros.hpp>
#include <future>
#include <thread>

#include "mkt/runtime/channel.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/io_thread.h"

using namespace std::chrono_literals;
namespace tpb = market::telemetry::v1;

namespace {

struct Fixture {
  mkt::testing::IoThread io;
  mkt::metrics::Registry registry;
  mkt::runtime::TelemetryService service;
  mkt::runtime::RpcServer server{{}};
  std::unique_ptr<tpb::Telemetry::Stub> stub;

  explicit Fixture(mkt::runtime::StreamOptions options = {.queued_messages_max = 10'000,
                                                          .drop_when_full = true})
      : service(io.strand(), "node-a", registry, options) {
    server.add_service(&service);
    const int port = server.start().value();
    stub = tpb::Telemetry::NewStub(
        mkt::runtime::make_channel("127.0.0.1:" + std::to_string(port), {"t", "", 4 << 20}));
  }
  ~Fixture() {
    io.run([&] { service.close_streams(); });
    server.shutdown(1s);
    io.stop();
  }
  template <class Fn>
  auto on_strand(Fn fn) {
    return io.run(std::move(fn));
  }
  // Waits until a subscriber takes trades.
  void wait_subscribed() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (bool ready = false; !ready;) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      on_strand([&] { ready = service.wants(tpb::Event::kTrade); });
    }
  }
};

tpb::Event trade_event(std::uint64_t id, std::size_t padding = 0) {
  tpb::Event event;
  event.mutable_trade()->set_trade_id(id);
  event.mutable_trade()->set_symbol(std::string(padding, 'x'));
  return event;
}

}  // namespace

TEST_CASE("a subscriber gets the kinds it asked for, numbered by every event made") {
  Fixture f;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  tpb::StreamEventsRequest request;
  request.add_kinds("trade");
  auto reader = f.stub->StreamEvents(&context, request);
  f.wait_subscribed();
  f.on_strand([&] {
    CHECK_FALSE(f.service.wants(tpb::Event::kOrder));
    tpb::Event order;
    order.mutable_order()->set_order_id(1);
    f.service.publish(order);
    f.service.publish(trade_event(7));
  });
  tpb::Event event;
  REQUIRE(reader->Read(&event));
  CHECK(event.seq() == 2);
  CHECK(event.trade().trade_id() == 7);
  CHECK(event.header().sender() == "node-a");
}

TEST_CASE("an unknown event kind is refused") {
  Fixture f;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  tpb::StreamEventsRequest request;
  request.add_kinds("trades");
  auto reader = f.stub->StreamEvents(&context, request);
  tpb::Event event;
  CHECK_FALSE(reader->Read(&event));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("a reader that falls behind loses events but keeps its stream") {
  Fixture f({.queued_messages_max = 2, .drop_when_full = true});
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  auto reader = f.stub->StreamEvents(&context, {});
  f.wait_subscribed();
  // 100 events of 64 KiB each, far past gRPC's flow-control windows, before anything is read.
  f.on_strand([&] {
    for (std::uint64_t i = 1; i <= 100; ++i) f.service.publish(trade_event(i, 64 * 1024));
  });
  // Then a small marker after each read, until one gets through the drained queue.
  std::vector<std::uint64_t> seqs;
  tpb::Event event;
  while (seqs.empty() || seqs.back() <= 100) {
    REQUIRE(reader->Read(&event));
    seqs.push_back(event.seq());
    f.on_strand([&] { f.service.publish(trade_event(0)); });
  }
  CHECK(std::is_sorted(seqs.begin(), seqs.end()));
  CHECK(std::adjacent_find(seqs.begin(), seqs.end(), [](auto a, auto b) { return b != a + 1; }) !=
        seqs.end());                     // a gap
  CHECK(event.trade().trade_id() == 0);  // the stream is still open after the drops
}

TEST_CASE("GetMetrics returns the registry") {
  Fixture f;
  f.registry.counter("events_total", "Events.", {{"kind", "x"}}).add(3);
  f.registry.histogram("wait_seconds", "Waits.", {1000}, 1e9).observe(10);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  tpb::MetricsSnapshot snapshot;
  REQUIRE(f.stub->GetMetrics(&context, {}, &snapshot).ok());
  // By name: the two above, and the service's own count of its streams.
  REQUIRE(snapshot.metrics_size() == 3);
  CHECK(snapshot.metrics(0).name() == "events_total");
  CHECK(snapshot.metrics(0).labels().at("kind") == "x");
  CHECK(snapshot.metrics(0).counter() == 3);
  CHECK(snapshot.metrics(1).name() == "telemetry_streams");
  CHECK(snapshot.metrics(1).gauge() == 0);
  CHECK(snapshot.metrics(2).histogram().bounds(0) == 1e-6);
  CHECK(snapshot.metrics(2).histogram().count() == 1);
}
