// The control API: link parameters to and from the proto for every distribution and loss model,
// with each bad value refused; partition requests; and the JSON routes end to end on a Control
// over a live proxy (list, set, partition, heal, stats, errors, a partition that heals by itself,
// and the scenario's timed disruptions); only the operator's key changes the network.

#include "control.h"

#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch_test_macros.hpp>

#include "mkt/runtime/options.h"
#include "mkt/testing/io_thread.h"
#include "tcp.h"

using namespace std::chrono_literals;
using namespace mkt::netproxy;
using mkt::runtime::HttpRequest;

namespace {

bool same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

const std::string operator_key = "operator-key-0123456789";

struct Fixture {
  Fixture() {
    REQUIRE(book.add("ex-2=127.0.0.1:" + std::to_string(echo.port())));
    port = proxy.start("127.0.0.1:0").value();
    io.run([&] {
      control.set_accounts({{"operator", operator_key}, {"alice", "alice-key-0123456789"}});
    });
  }
  ~Fixture() {
    io.run([&] { control.stop(); });
    proxy.stop();
    io.run([] {});
  }
  // A request with the operator's key (or `key`).
  mkt::runtime::HttpResponse http(const std::string& method, const std::string& target,
                                  const std::string& body = {},
                                  const std::string& key = operator_key) {
    return io.run([&] {
      auto r = control.http(HttpRequest{method, target, body, key});
      REQUIRE(r);
      return *r;
    });
  }
  std::size_t partitions() {
    return io.run([&] { return model.partitions().size(); });
  }

  mkt::scenario::Scenario scenario =
      mkt::runtime::load_scenario_file(std::string(NETPROXY_TESTS) + "/net.yaml").value();
  mkt::netmodel::LinkModel model = mkt::netmodel::LinkModel::build(scenario);
  mkt::runtime::AddressBook book{{"ex-1", "ex-2", "alice", "bob"}, ""};
  mkt::metrics::Registry registry;
  testing::EchoServer echo;
  mkt::testing::IoThread io;
  Proxy proxy{io.io(), model, book, registry};
  Control control{io.strand(), model, proxy, nullptr};
  int port = 0;
};

}  // namespace

TEST_CASE("link parameters go to the model and back for every distribution") {
  for (auto dist : {pb::DISTRIBUTION_UNSPECIFIED, pb::DISTRIBUTION_UNIFORM, pb::DISTRIBUTION_NORMAL,
                    pb::DISTRIBUTION_EXPONENTIAL, pb::DISTRIBUTION_PARETO}) {
    pb::LinkParams p;
    p.set_latency_us(10'000);
    p.set_jitter_distribution(dist);
    if (dist != pb::DISTRIBUTION_UNSPECIFIED) p.set_jitter_us(2000);
    if (dist == pb::DISTRIBUTION_PARETO) p.set_pareto_shape_milli(2500);
    p.set_bandwidth_bps(5'000'000);
    p.mutable_loss()->set_bernoulli_ppm(1000);
    p.set_queue_bytes_max(100'000);
    p.set_rto_us(50'000);
    const auto params = to_params(p);
    REQUIRE(params);
    CHECK(params->bandwidth_kbps == 5000);
    CHECK(same(to_proto(*params), p));
  }
  pb::LinkParams ge;
  auto* g = ge.mutable_loss()->mutable_gilbert_elliott();
  g->set_p_ppm(10'000);
  g->set_r_ppm(250'000);
  g->set_loss_bad_ppm(1'000'000);
  const auto params = to_params(ge);
  REQUIRE(params);
  CHECK(params->loss.p_ppm == 10'000);
  CHECK(same(to_proto(*params), ge));
}

TEST_CASE("bad link parameters are refused with the reason") {
  pb::LinkParams p;
  p.set_jitter_us(5);
  CHECK(to_params(p).error() == "jitter_us needs a jitter_distribution (uniform, normal, ...)");
  p = {};
  p.set_latency_us(-1);
  CHECK(to_params(p).error() == "latency and jitter must not be negative");
  p = {};
  p.set_bandwidth_bps(1500);
  CHECK(to_params(p).error().starts_with("bandwidth_bps must be a whole number of kbit/s"));
  p = {};
  p.mutable_loss()->set_bernoulli_ppm(2'000'000);
  CHECK(to_params(p).error() == "a probability is at most 1000000 ppm");
  p = {};
  p.set_jitter_distribution(pb::DISTRIBUTION_PARETO);
  p.set_jitter_us(10);
  CHECK(to_params(p).error() == "pareto latency needs scale >= 0 and shape > 0");
}

TEST_CASE("partition requests become specs and back") {
  pb::CreatePartitionRequest r;
  r.set_shape(pb::PARTITION_SHAPE_MAJORITIES_RING);
  r.set_mode(pb::PARTITION_MODE_RESET);
  r.add_nodes("a");
  r.set_duration_ms(100);
  r.set_seed(9);
  const auto spec = to_spec(r);
  REQUIRE(spec);
  CHECK(spec->shape == mkt::netmodel::PartitionShape::majorities_ring);
  CHECK(spec->mode == mkt::netmodel::CutMode::reset);
  CHECK(same(to_request(*spec), r));
  r.set_duration_ms(-1);
  CHECK(to_spec(r).error() == "duration_ms must not be negative");
}

TEST_CASE("the JSON API lists, sets, partitions, heals and counts") {
  Fixture f;
  auto r = f.http("GET", "/v1/links");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  pb::ListLinksResponse links;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &links).ok());
  CHECK(links.links_size() == 12);

  r = f.http("POST", "/v1/SetLink",
             R"({"source":"alice","destination":"ex-2","both_directions":true,
                 "params":{"latency_us":"20000","jitter_us":1000,
                           "jitter_distribution":"DISTRIBUTION_NORMAL"}})");
  CHECK(r.status == 200);
  pb::Link link;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &link).ok());
  CHECK(link.overridden());
  CHECK(link.params().latency_us() == 20'000);
  CHECK(link.params().rto_us() == 240'000);
  CHECK(std::vector<std::string>(link.route().begin(), link.route().end()) ==
        std::vector<std::string>{"alice", "node_0", "node_1", "ex-2"});
  CHECK(f.io.run([&] { return f.model.overridden(*f.model.find("ex-2", "alice")); }));

  // Errors: a body that is not the message, a link that does not exist, a bad value.
  r = f.http("POST", "/v1/SetLink", R"({"source": 5, "nonsense": true})");
  CHECK(r.status == 400);
  CHECK(r.body.find("INVALID_ARGUMENT") != std::string::npos);
  r = f.http("POST", "/v1/SetLink", R"({"source":"alice","destination":"nobody"})");
  CHECK(r.status == 404);
  CHECK(r.body.find("no link from 'alice' to 'nobody'") != std::string::npos);
  r = f.http("POST", "/v1/SetLink",
             R"({"source":"alice","destination":"ex-2","params":{"bandwidth_bps":1}})");
  CHECK(r.status == 400);
  CHECK(f.http("DELETE", "/v1/links").status == 405);
  CHECK_FALSE(f.io.run([&] { return f.control.http({"GET", "/metrics", "", ""}).has_value(); }));

  // Traffic, then its statistics.
  testing::Client c(f.port);
  REQUIRE(c.connect_as("alice", "127.0.0.1:" + std::to_string(f.echo.port())) == 200);
  c.send("ping");
  REQUIRE(c.read(4, 5s) == "ping");
  r = f.http("GET", "/v1/stats");
  pb::GetLinkStatsResponse stats;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &stats).ok());
  REQUIRE(stats.links_size() == 2);  // alice -> ex-2 and back
  for (const auto& s : stats.links()) {
    CHECK(s.bytes_forward() == 4);
    CHECK(s.bytes_backward() == 4);
    CHECK(s.applied_delay().count() == 1);
    CHECK(s.applied_delay().sum_us() > 10'000);
  }
  r = f.http("POST", "/v1/GetLinkStats", R"({"source":"alice"})");
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &stats).ok());
  REQUIRE(stats.links_size() == 1);
  CHECK(stats.links(0).connections_open() == 1);
  CHECK(stats.links(0).connections_total() == 1);

  // Partitions.
  r = f.http(
      "POST", "/v1/CreatePartition",
      R"({"shape":"PARTITION_SHAPE_ISOLATE","nodes":["alice"],"mode":"PARTITION_MODE_RESET"})");
  CHECK(r.status == 200);
  pb::Partition p;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &p).ok());
  CHECK(p.id() == "p1");
  CHECK(p.cut_links_size() == 6);
  CHECK(c.read(1, 5s).empty());
  CHECK(c.closed());  // reset at once
  r = f.http("POST", "/v1/CreatePartition", R"({"shape":"PARTITION_SHAPE_REGION","region":"x"})");
  CHECK(r.status == 400);
  CHECK(r.body.find("unknown region 'x'") != std::string::npos);
  CHECK(f.http("GET", "/v1/partitions").body.find("\"p1\"") != std::string::npos);
  CHECK(f.http("POST", "/v1/HealPartition", R"({"id":"p7"})").status == 404);
  r = f.http("POST", "/v1/HealPartition", "{}");
  CHECK(r.status == 200);
  CHECK(r.body.find("\"healed\": 1") != std::string::npos);
  CHECK(f.partitions() == 0);

  CHECK(f.http("POST", "/v1/ResetAll").status == 200);
  CHECK_FALSE(f.io.run([&] { return f.model.overridden(*f.model.find("alice", "ex-2")); }));
}

TEST_CASE("a partition with a duration heals by itself") {
  Fixture f;
  const auto r = f.http("POST", "/v1/CreatePartition",
                        R"({"groups":[{"nodes":["ex-1"]},{"nodes":["ex-2"]}],"duration_ms":100})");
  REQUIRE(r.status == 200);
  CHECK(f.partitions() == 1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (f.partitions() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(f.partitions() == 0);
}

TEST_CASE("a timed partition from the scenario starts and ends") {
  Fixture f;
  std::vector<mkt::scenario::Disruption> disruptions(1);
  disruptions[0].name = "split";
  disruptions[0].type = mkt::scenario::DisruptionType::partition;
  disruptions[0].start_ms = 0;
  disruptions[0].duration_ms = 150;
  disruptions[0].groups = {{"alice"}, {"bob"}};
  f.io.run([&] { f.control.schedule_disruptions(disruptions); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (f.partitions() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(f.partitions() == 1);
  while (f.partitions() == 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(f.partitions() == 0);
}

TEST_CASE("control: only the operator changes the network; anyone reads it") {
  Fixture f;
  const std::string cut = R"({"shape":"PARTITION_SHAPE_ISOLATE","nodes":["alice"]})";
  auto r = f.http("POST", "/v1/CreatePartition", cut, "");
  CHECK(r.status == 401);
  CHECK(r.body.find("needs the operator's key (x-api-key)") != std::string::npos);
  r = f.http("POST", "/v1/CreatePartition", cut, "alice-key-0123456789");
  CHECK(r.status == 403);
  CHECK(r.body.find("alice is not the operator") != std::string::npos);
  for (const char* change : {"SetLink", "ResetAll", "HealPartition"}) {
    INFO(change);
    CHECK(f.http("POST", std::string("/v1/") + change, "{}", "wrong-key-0123456789").status == 401);
  }
  CHECK(f.partitions() == 0);  // nothing changed
  CHECK(f.http("GET", "/v1/links", "", "").status == 200);
  CHECK(f.http("POST", "/v1/ListPartitions", "{}", "").status == 200);
  CHECK(f.http("POST", "/v1/CreatePartition", cut).status == 200);
  CHECK(f.partitions() == 1);
  // A proxy that knows no accounts lets nobody change it.
  f.io.run([&] { f.control.set_accounts({}); });
  r = f.http("POST", "/v1/HealPartition", "{}");
  CHECK(r.status == 412);
  CHECK(r.body.find("started without --accounts") != std::string::npos);
  CHECK(f.partitions() == 1);
  CHECK(f.io.run([&] { return f.control.authorize(operator_key).error_code(); }) ==
        grpc::StatusCode::FAILED_PRECONDITION);
}
