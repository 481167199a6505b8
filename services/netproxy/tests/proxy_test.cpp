// The proxy over real sockets on free ports, in process: a tunnel carries bytes both ways intact
// and in order (also under jitter), with the configured delay and bandwidth; every bad request
// gets its refusal and the proxy goes on serving; a black-hole partition holds bytes until the
// heal and a reset partition resets the tunnel and refuses new ones; half-close is passed on;
// the link counters count.

#include "proxy.h"

#include <catch2/catch_test_macros.hpp>
#include <random>

#include "mkt/runtime/options.h"
#include "mkt/testing/io_thread.h"
#include "tcp.h"

using namespace std::chrono_literals;
using mkt::netproxy::testing::Client;
using mkt::netproxy::testing::EchoServer;

namespace {

mkt::scenario::Scenario net_scenario() {
  auto s = mkt::runtime::load_scenario_file(std::string(NETPROXY_TESTS) + "/net.yaml");
  if (!s) FAIL(s.error());
  return std::move(*s);
}

// A proxy for net.yaml with ex-2 at the echo server.
struct Fixture {
  explicit Fixture(mkt::netproxy::ProxyOptions options = {}) {
    REQUIRE(book.add("ex-2=127.0.0.1:" + std::to_string(echo.port())));
    proxy.emplace(io.io(), model, book, registry, options);
    port = proxy->start("127.0.0.1:0").value();
  }
  ~Fixture() {
    proxy->stop();
    io.run([] {});
  }

  // Sets alice <-> ex-2 both ways, on the proxy's thread.
  void set_link(const mkt::netmodel::LinkParams& params) {
    io.run([&] {
      model.set_params(*model.find("alice", "ex-2"), params);
      model.set_params(*model.find("ex-2", "alice"), params);
    });
  }
  std::string partition(mkt::netmodel::PartitionSpec spec) {
    return io.run([&] {
      const auto p = model.partition(spec, 0);
      proxy->apply_cuts();
      return p.value().id;
    });
  }
  void heal() {
    io.run([&] {
      model.heal("");
      proxy->apply_cuts();
    });
  }
  std::unique_ptr<Client> tunnel(const std::string& node = "alice") {
    auto c = std::make_unique<Client>(port);
    REQUIRE(c->connect_as(node, "127.0.0.1:" + std::to_string(echo.port())) == 200);
    return c;
  }

  mkt::scenario::Scenario scenario = net_scenario();
  mkt::netmodel::LinkModel model = mkt::netmodel::LinkModel::build(scenario);
  mkt::runtime::AddressBook book{{"ex-1", "ex-2", "alice", "bob", "netproxy"}, ""};
  mkt::metrics::Registry registry;
  EchoServer echo;
  mkt::testing::IoThread io;
  std::optional<mkt::netproxy::Proxy> proxy;
  int port = 0;
};

mkt::netmodel::LinkParams delay_us(std::int64_t us) {
  mkt::netmodel::LinkParams p;
  p.latency.value_us = us;
  return p;
}

std::chrono::microseconds round_trip(Client& c, const std::string& bytes) {
  const auto start = std::chrono::steady_clock::now();
  c.send(bytes);
  REQUIRE(c.read(bytes.size(), 10s) == bytes);
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng());
  return s;
}

}  // namespace

TEST_CASE("a tunnel carries bytes both ways") {
  Fixture f;
  auto c = f.tunnel();
  CHECK(round_trip(*c, "hello") < 1s);
  const std::string big = random_bytes(3 << 20, 1);
  std::string back;
  std::thread writer([&] { c->send(big); });
  back = c->read(big.size(), 20s);
  writer.join();
  CHECK(back == big);
  CHECK(f.io.run([&] { return f.proxy->open_connections(); }) == 1);
  const auto* counters =
      f.io.run([&] { return f.proxy->counters(*f.model.find("alice", "ex-2")); });
  REQUIRE(counters != nullptr);
  CHECK(counters->bytes->value() == big.size() + 5);
  CHECK(counters->connections_open->value() == 1);
  CHECK(counters->connections_total->value() == 1);
}

TEST_CASE("a tunnel's round trip is the configured delay both ways") {
  Fixture f;
  f.set_link(delay_us(20'000));
  auto c = f.tunnel();
  for (int i = 0; i < 5; ++i) {
    const auto rtt = round_trip(*c, "ping");
    CHECK(rtt >= 40ms);
    CHECK(rtt < 40ms + 200ms);  // generous: a loaded machine, never a tight bound
  }
}

TEST_CASE("bytes stay intact and in order under heavy jitter") {
  Fixture f;
  mkt::netmodel::LinkParams p;
  p.latency.kind = mkt::scenario::DistributionKind::uniform;
  p.latency.min_us = 0;
  p.latency.max_us = 5000;
  f.set_link(p);
  auto c = f.tunnel();
  const std::string data = random_bytes(1 << 20, 2);
  std::thread writer([&] {
    for (std::size_t at = 0; at < data.size(); at += 1000) c->send(data.substr(at, 1000));
  });
  const std::string back = c->read(data.size(), 30s);
  writer.join();
  CHECK(back == data);
}

TEST_CASE("a bandwidth cap paces the bytes") {
  Fixture f;
  mkt::netmodel::LinkParams p;
  p.bandwidth_kbps = 8000;  // 1 MB/s each way
  f.set_link(p);
  auto c = f.tunnel();
  const std::string data = random_bytes(500'000, 3);
  const auto start = std::chrono::steady_clock::now();
  std::thread writer([&] { c->send(data); });
  const std::string back = c->read(data.size(), 30s);
  writer.join();
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(back == data);
  CHECK(took >= 450ms);  // 0.5 s at the rate; the echo pipelines the way back
}

TEST_CASE("bad requests are refused and the proxy goes on serving") {
  mkt::netproxy::ProxyOptions options;
  options.request_timeout = 300ms;
  Fixture f(options);
  const std::string echo = "127.0.0.1:" + std::to_string(f.echo.port());
  {
    Client c(f.port);
    c.send("NOT HTTP AT ALL\r\n\r\n");
    CHECK(Client::status(c.read_head()) == 400);
  }
  {
    Client c(f.port);
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(Client::status(c.read_head()) == 405);
  }
  {
    Client c(f.port);
    CHECK(c.connect_as("", echo) == 407);
  }
  {
    Client c(f.port);
    c.send("CONNECT " + echo + " HTTP/1.1\r\nProxy-Authorization: Bearer xyz\r\n\r\n");
    CHECK(Client::status(c.read_head()) == 407);
  }
  {
    Client c(f.port);
    CHECK(c.connect_as("mallory", echo) == 403);  // not a node
  }
  {
    Client c(f.port);
    CHECK(c.connect_as("alice", "127.0.0.1:1") == 403);  // no node there
  }
  {
    Client c(f.port);
    CHECK(c.connect_as("alice", "no-port") == 400);
  }
  {
    Client c(f.port);
    c.send("CONNECT " + echo + " HTTP/1.1\r\nX-Padding: " + std::string(10'000, 'x') + "\r\n\r\n");
    CHECK(Client::status(c.read_head()) == 431);
  }
  {
    // A node whose address answers nobody: 502.
    REQUIRE(f.io.run([&] { return f.book.add("ex-1=127.0.0.1:1").has_value(); }));
    Client c(f.port);
    CHECK(c.connect_as("alice", "127.0.0.1:1") == 502);
  }
  {
    // A client that says nothing is closed after the request timeout.
    Client c(f.port);
    CHECK(c.read(1, 10s).empty());
    CHECK(c.closed());
  }
  auto good = f.tunnel();
  CHECK(round_trip(*good, "still serving") < 1s);
  CHECK(f.registry.counter("netproxy_refusals_total", "", {{"reason", "malformed"}}).value() == 2);
  CHECK(f.registry.counter("netproxy_refusals_total", "", {{"reason", "no_node"}}).value() == 2);
  CHECK(
      f.registry.counter("netproxy_refusals_total", "", {{"reason", "request_timeout"}}).value() ==
      1);
}

TEST_CASE("connections over the limit are refused with 503") {
  mkt::netproxy::ProxyOptions options;
  options.connections_max = 1;
  Fixture f(options);
  auto first = f.tunnel();
  Client second(f.port);
  CHECK(Client::status(second.read_head()) == 503);
  CHECK(round_trip(*first, "the first still works") < 1s);
}

TEST_CASE("a black-hole partition holds bytes until it heals") {
  Fixture f;
  auto c = f.tunnel();
  CHECK(round_trip(*c, "before") < 1s);
  mkt::netmodel::PartitionSpec spec;
  spec.shape = mkt::netmodel::PartitionShape::isolate;
  spec.nodes = {"ex-2"};
  f.partition(spec);
  c->send("held");
  CHECK(c->read(4, 300ms).empty());
  CHECK_FALSE(c->closed());
  // A new tunnel opens, and its bytes are held too.
  auto later = f.tunnel();
  later->send("also held");
  CHECK(later->read(9, 100ms).empty());
  f.heal();
  CHECK(c->read(4, 5s) == "held");
  CHECK(later->read(9, 5s) == "also held");
}

TEST_CASE("a reset partition resets tunnels and refuses new ones") {
  Fixture f;
  auto c = f.tunnel();
  auto other = f.tunnel("bob");  // bob and ex-2 share a site and stay connected
  mkt::netmodel::PartitionSpec spec;
  spec.shape = mkt::netmodel::PartitionShape::isolate;
  spec.nodes = {"alice"};
  spec.mode = mkt::netmodel::CutMode::reset;
  f.partition(spec);
  CHECK(c->read(1, 5s).empty());
  CHECK(c->closed());
  CHECK(c->last_error() == boost::asio::error::connection_reset);
  Client refused(f.port);
  CHECK(refused.connect_as("alice", "127.0.0.1:" + std::to_string(f.echo.port())) == 503);
  CHECK(round_trip(*other, "unaffected") < 1s);
  f.heal();
  auto again = f.tunnel();
  CHECK(round_trip(*again, "healed") < 1s);
}

TEST_CASE("a half-close travels through the tunnel") {
  Fixture f;
  f.set_link(delay_us(5000));
  auto c = f.tunnel();
  c->send("last words");
  c->shutdown_send();
  CHECK(c->read(100, 5s) == "last words");
  CHECK(c->closed());  // the echo server saw the end and closed its side
}
