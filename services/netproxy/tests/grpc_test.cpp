// The netproxy binary as a real process between a real gRPC client and server: the client's
// channel goes through the proxy as node alice to a server that is node ex-2. A call's round trip
// is the configured link delays plus the direct baseline; a black-hole partition stalls a call
// and the heal releases it; a reset partition fails calls with UNAVAILABLE; SIGTERM stops the
// proxy cleanly. The links are changed through the gRPC control API, and the JSON one is read.

#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <fstream>
#include <future>

#include "echo_service.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/server.h"
#include "mkt/testing/child_process.h"
#include "mkt/testing/io_thread.h"
#include "tcp.h"

using namespace std::chrono_literals;
namespace pb = market::netcontrol::v1;
using Clock = std::chrono::steady_clock;

namespace {

struct Call {
  grpc::Status status;
  std::chrono::microseconds took;
};

Call say(mkt::test::v1::Echo::Stub& stub, std::chrono::milliseconds timeout,
         bool wait_for_ready = false) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  context.set_wait_for_ready(wait_for_ready);
  mkt::test::v1::SayRequest request;
  request.set_text("ping");
  mkt::test::v1::SayReply reply;
  const auto start = Clock::now();
  Call call;
  call.status = stub.Say(&context, request, &reply);
  call.took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  if (call.status.ok()) CHECK(reply.text() == "ping");
  return call;
}

std::chrono::microseconds median_round_trip(mkt::test::v1::Echo::Stub& stub, int calls) {
  std::vector<std::chrono::microseconds> took;
  for (int i = 0; i < calls; ++i) {
    const auto call = say(stub, 10s);
    REQUIRE(call.status.ok());
    took.push_back(call.took);
  }
  std::sort(took.begin(), took.end());
  return took[took.size() / 2];
}

}  // namespace

TEST_CASE("gRPC through the netproxy process: delays, a stalled and released call, a reset") {
  mkt::testing::IoThread io;
  mkt::test::EchoService echo(io.strand());
  mkt::runtime::RpcServer server({"127.0.0.1:0"});
  server.add_service(&echo);
  const int echo_port = server.start().value();
  const std::string echo_address = "127.0.0.1:" + std::to_string(echo_port);

  // The operator's key changes the network; alice's does not.
  const std::string accounts = std::filesystem::temp_directory_path() /
                               ("netproxy-grpc-accounts-" + std::to_string(::getpid()));
  std::ofstream(accounts) << "operator operator-key-0123456789\nalice alice-key-0123456789\n";
  struct Remove {
    std::string path;
    ~Remove() { std::filesystem::remove(path); }
  } remove{accounts};
  mkt::testing::ChildProcess proxy({NETPROXY_BINARY, "--config",
                                    std::string(NETPROXY_TESTS) + "/net.yaml", "--node", "netproxy",
                                    "--address", "ex-2=" + echo_address, "--accounts", accounts});
  const auto ports = proxy.wait_for_line(
      "listening on port ([0-9]+).*control on port ([0-9]+); http on port ([0-9]+)", 20s);
  REQUIRE(ports);
  const std::string proxy_address = "127.0.0.1:" + (*ports)[1];
  auto control = pb::NetControl::NewStub(mkt::runtime::make_channel(
      "127.0.0.1:" + (*ports)[2], {.node_id = "test", .proxy_address = ""}));
  const auto control_call = [&](auto method, const auto& request, auto* response,
                                const std::string& key = "operator-key-0123456789") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    context.AddMetadata("x-api-key", key);
    return ((*control).*method)(&context, request, response);
  };

  auto direct = mkt::test::v1::Echo::NewStub(
      mkt::runtime::make_channel(echo_address, {.node_id = "alice", .proxy_address = ""}));
  auto proxied = mkt::test::v1::Echo::NewStub(mkt::runtime::make_channel(
      echo_address, {.node_id = "alice", .proxy_address = proxy_address}));
  const auto baseline_direct = median_round_trip(*direct, 21);
  const auto baseline = median_round_trip(*proxied, 21);
  INFO("median round trip direct " << baseline_direct.count() << " us, through the proxy "
                                   << baseline.count() << " us");

  SECTION("the round trip is the link delays plus the baseline") {
    pb::SetLinkRequest set;
    set.set_source("alice");
    set.set_destination("ex-2");
    set.set_both_directions(true);
    set.mutable_params()->set_latency_us(25'000);
    pb::Link link;
    REQUIRE(control_call(&pb::NetControl::Stub::SetLink, set, &link).ok());
    CHECK(link.overridden());
    for (int i = 0; i < 10; ++i) {
      const auto call = say(*proxied, 10s);
      REQUIRE(call.status.ok());
      CHECK(call.took >= 50ms);
      CHECK(call.took < 50ms + baseline + 100ms);  // loose: a shared machine
    }
    // The applied delays are in the statistics, also over JSON.
    mkt::netproxy::testing::Client http(std::stoi((*ports)[3]));
    http.send("GET /v1/stats HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::string head = http.read_head();
    CHECK(mkt::netproxy::testing::Client::status(head) == 200);
    CHECK(http.read(4096, 5s).find("\"source\": \"alice\"") != std::string::npos);
  }

  SECTION("a black-hole partition stalls a call until the heal") {
    pb::CreatePartitionRequest cut;
    cut.set_shape(pb::PARTITION_SHAPE_ISOLATE);
    cut.add_nodes("alice");
    pb::Partition partition;
    REQUIRE(control_call(&pb::NetControl::Stub::CreatePartition, cut, &partition).ok());
    std::chrono::steady_clock::time_point answered_at;
    auto stalled = std::async(std::launch::async, [&] {
      auto result = say(*proxied, 20s);
      answered_at = std::chrono::steady_clock::now();
      return result;
    });
    CHECK(stalled.wait_for(500ms) == std::future_status::timeout);
    pb::HealPartitionRequest heal;
    pb::HealPartitionResponse healed;
    const auto healed_at = std::chrono::steady_clock::now();
    REQUIRE(control_call(&pb::NetControl::Stub::HealPartition, heal, &healed).ok());
    CHECK(healed.healed() == 1);
    const auto call = stalled.get();
    CHECK(call.status.ok());
    CHECK(answered_at >= healed_at);  // released by the heal, not before
  }

  SECTION("a reset partition fails calls with UNAVAILABLE, and they work again after the heal") {
    pb::CreatePartitionRequest cut;
    cut.set_shape(pb::PARTITION_SHAPE_ISOLATE);
    cut.set_mode(pb::PARTITION_MODE_RESET);
    cut.add_nodes("ex-2");
    pb::Partition partition;
    REQUIRE(control_call(&pb::NetControl::Stub::CreatePartition, cut, &partition).ok());
    const auto failed = say(*proxied, 10s);
    CHECK(failed.status.error_code() == grpc::StatusCode::UNAVAILABLE);
    pb::HealPartitionRequest heal;
    heal.set_id(partition.id());
    pb::HealPartitionResponse healed;
    REQUIRE(control_call(&pb::NetControl::Stub::HealPartition, heal, &healed).ok());
    CHECK(say(*proxied, 20s, true).status.ok());
  }

  SECTION("bad control requests get a precise status") {
    pb::CreatePartitionRequest cut;
    cut.set_shape(pb::PARTITION_SHAPE_ISOLATE);
    cut.add_nodes("alice");
    pb::Partition partition;
    CHECK(control_call(&pb::NetControl::Stub::CreatePartition, cut, &partition, "").error_code() ==
          grpc::StatusCode::UNAUTHENTICATED);
    CHECK(control_call(&pb::NetControl::Stub::CreatePartition, cut, &partition,
                       "alice-key-0123456789")
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
    pb::ListPartitionsResponse partitions;
    REQUIRE(control_call(&pb::NetControl::Stub::ListPartitions, pb::ListPartitionsRequest{},
                         &partitions, "")
                .ok());  // reading needs no key
    CHECK(partitions.partitions().empty());
    pb::SetLinkRequest set;
    set.set_source("alice");
    set.set_destination("nobody");
    pb::Link link;
    CHECK(control_call(&pb::NetControl::Stub::SetLink, set, &link).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    set.set_destination("ex-2");
    set.mutable_params()->set_jitter_us(5);
    CHECK(control_call(&pb::NetControl::Stub::SetLink, set, &link).error_code() ==
          grpc::StatusCode::INVALID_ARGUMENT);
  }

  CHECK(proxy.terminate() == 0);
  server.shutdown(1s);
}
