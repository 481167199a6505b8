#include "plan.h"

#include <algorithm>
#include <catch2/catch_test_macros.hpp>

#include "mkt/scenario/scenario.h"

using namespace mkt::marketctl;
namespace scenario = mkt::scenario;

namespace {

scenario::Scenario load(const std::string& consensus = "raft") {
  const std::string yaml = R"(version: 1
name: plan-test
topologies:
  lan: {type: mesh, num_nodes: 2, latency_ms: 1}
markets:
  m: {symbols: [S], initial_price: 100}
exchanges:
  - {id: ex-a, markets: [m]}
  - {id: ex-b, markets: [m]}
agents:
  - {name: alice, strategy: noise}
  - {name: bob, strategy: external}
consensus: {protocol: )" + consensus +
                           R"(, validators: 4}
monitoring: {enable_real_time_monitoring: true, log_level: debug}
)";
  auto parsed = scenario::parse(yaml, "plan-test.yaml");
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

std::vector<std::string> ids(const std::vector<const scenario::Node*>& nodes) {
  std::vector<std::string> out;
  for (const auto* n : nodes) out.push_back(n->id);
  return out;
}

bool has(const std::vector<std::string>& args, const std::string& arg) {
  return std::find(args.begin(), args.end(), arg) != args.end();
}

LaunchOptions options() {
  return {.run = {"/r"},
          .binaries = {.netproxy = "/bin/np",
                       .exchanged = "/bin/ex",
                       .validatord = "/bin/va",
                       .agentd = "/bin/ag",
                       .monitord = "/bin/mo"},
          .sync = "none",
          .topology = ""};
}

}  // namespace

TEST_CASE(
    "marketctl: the proxy starts first, then the validators, the exchanges, the agents, the "
    "monitor") {
  const auto s = load();
  const auto plan = start_plan(s);
  REQUIRE(plan.stages.size() == 5);
  CHECK(ids(plan.stages[0]) == std::vector<std::string>{"netproxy"});
  CHECK(ids(plan.stages[1]) == std::vector<std::string>{"val-0", "val-1", "val-2", "val-3"});
  CHECK(ids(plan.stages[2]) == std::vector<std::string>{"ex-a", "ex-b"});
  CHECK(ids(plan.stages[3]) == std::vector<std::string>{"alice"});
  CHECK(ids(plan.stages[4]) == std::vector<std::string>{"monitor"});
  // Nodes that cannot run yet are named with the reason.
  REQUIRE(plan.skipped.size() == 1);
  CHECK(plan.skipped[0].first->id == "bob");
  CHECK(plan.skipped[0].second.find("an external agent: run it yourself") != std::string::npos);
}

TEST_CASE("marketctl: up --no-agents leaves every agent out, with the reason") {
  const auto s = load();
  const auto plan = start_plan(s, {.agents = false});
  REQUIRE(plan.stages.size() == 4);
  REQUIRE(plan.skipped.size() == 2);
  CHECK(plan.skipped[0].first->id == "alice");
  CHECK(plan.skipped[0].second.find("up --no-agents") != std::string::npos);
}

TEST_CASE(
    "marketctl: validators of a protocol validatord does not run are skipped with the reason") {
  const auto s = load("streamlet");
  const auto plan = start_plan(s);
  REQUIRE(plan.stages.size() == 4);
  CHECK(ids(plan.stages[1]) == std::vector<std::string>{"ex-a", "ex-b"});
  CHECK(std::count_if(plan.skipped.begin(), plan.skipped.end(), [](const auto& skip) {
          return skip.second.find("Raft only") != std::string::npos;
        }) == 4);
}

TEST_CASE("marketctl: command lines carry the run folder, the proxy and the validators") {
  const auto s = load();
  const auto o = options();
  const std::map<std::string, std::string> addresses{
      {"val-0", "127.0.0.1:5000"}, {"val-2", "127.0.0.1:5002"}, {"ex-a", "127.0.0.1:6000"}};
  const auto exchange = command_line(s, *s.find_node("ex-a"), o, {}, addresses, "127.0.0.1:4000");
  CHECK(exchange.front() == "/bin/ex");
  CHECK(has(exchange, "--listen=127.0.0.1:0"));
  CHECK(has(exchange, "--journal=/r/data/ex-a/journal"));
  CHECK(has(exchange, "--journal-sync=none"));
  CHECK(has(exchange, "--accounts=/r/accounts"));
  CHECK(has(exchange, "--ledger=127.0.0.1:5000,127.0.0.1:5002"));  // validators only
  CHECK(has(exchange, "--proxy=127.0.0.1:4000"));
  CHECK(has(exchange, "--config=/r/scenario.yaml"));
  CHECK(has(exchange, "--node=ex-a"));
  CHECK(has(exchange, "--log-level=debug"));
  CHECK(has(exchange, "--ports-file=/r/ports/ex-a"));

  const auto validator =
      command_line(s, *s.find_node("val-1"), o, {{"grpc", 5001}, {"metrics", 5101}}, addresses, "");
  CHECK(validator.front() == "/bin/va");
  CHECK(has(validator, "--listen=127.0.0.1:5001"));
  CHECK(has(validator, "--metrics-listen=127.0.0.1:5101"));
  CHECK(has(validator, "--data-dir=/r/data/val-1"));
  CHECK(has(validator, "--wal-sync=none"));
  CHECK(has(validator, "--addresses=/r/addresses"));
  CHECK(std::none_of(validator.begin(), validator.end(),
                     [](const std::string& a) { return a.starts_with("--proxy"); }));

  const auto proxy = command_line(s, *s.find_node("netproxy"), o, {}, addresses, "127.0.0.1:4000");
  CHECK(proxy.front() == "/bin/np");
  CHECK(has(proxy, "--addresses=/r/addresses"));
  CHECK(has(proxy, "--control-listen=127.0.0.1:0"));
  CHECK(std::none_of(proxy.begin(), proxy.end(),
                     [](const std::string& a) { return a.starts_with("--proxy"); }));

  auto with_topology = o;
  with_topology.topology = "lan";
  CHECK(has(command_line(s, *s.find_node("ex-b"), with_topology, {}, {}, ""), "--topology=lan"));
  const auto agent = command_line(s, *s.find_node("alice"), o, {}, addresses, "127.0.0.1:4000");
  CHECK(agent.front() == "/bin/ag");
  CHECK(has(agent, "--accounts=/r/accounts"));
  CHECK(has(agent, "--addresses=/r/addresses"));
  CHECK(has(agent, "--epoch-file=/r/epoch"));
  CHECK(has(agent, "--proxy=127.0.0.1:4000"));
  CHECK(has(agent, "--node=alice"));
  // The monitor reads the run folder's state, and goes straight to each node, not by the proxy.
  const auto monitor = command_line(s, *s.find_node("monitor"), o, {}, {}, "127.0.0.1:4000");
  CHECK(monitor.front() == "/bin/mo");
  CHECK(has(monitor, "--run=/r"));
  CHECK(has(monitor, "--node=monitor"));
  CHECK(std::none_of(monitor.begin(), monitor.end(),
                     [](const std::string& a) { return a.starts_with("--proxy"); }));
  // In a container: every node by its name, on the containers' metrics port.
  auto contained = o;
  contained.container = true;
  contained.proxy_http_port = 7002;
  contained.proxy_control_port = 7001;
  const auto in_container = command_line(s, *s.find_node("monitor"), contained,
                                         {{"grpc", 7000}, {"metrics", 7001}}, {}, "netproxy:7000");
  CHECK(has(in_container, "--metrics-port=7001"));
  CHECK(has(in_container, "--proxy-http-port=7002"));
  CHECK(has(in_container, "--proxy-control-port=7001"));
  CHECK(has(in_container, "--grpc-port=7000"));
  CHECK(has(in_container, "--metrics-listen=0.0.0.0:7001"));
  CHECK(has(in_container, "--assets=/usr/local/share/netmarket/web"));
}

TEST_CASE("marketctl: fixed ports count up from the base in start order") {
  const auto s = load();
  const auto ports = fixed_ports(start_plan(s), 40000);
  CHECK(ports.at("netproxy") ==
        mkt::runtime::Ports{{"proxy", 40000}, {"control", 40001}, {"http", 40002}});
  CHECK(ports.at("val-0") == mkt::runtime::Ports{{"grpc", 40003}, {"metrics", 40004}});
  CHECK(ports.at("ex-b") == mkt::runtime::Ports{{"grpc", 40013}, {"metrics", 40014}});
  CHECK(ports.at("alice") == mkt::runtime::Ports{{"grpc", 40015}, {"metrics", 40016}});
  CHECK_FALSE(ports.contains("bob"));
}
