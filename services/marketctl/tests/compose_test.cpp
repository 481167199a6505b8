#include "compose.h"

#include <yaml-cpp/yaml.h>

#include <catch2/catch_test_macros.hpp>

#include "mkt/scenario/scenario.h"
#include "prometheus.h"

using namespace mkt::marketctl;
namespace scenario = mkt::scenario;

namespace {

scenario::Scenario load(const std::string& agents = "  - {name: alice, strategy: noise}\n") {
  const std::string yaml = R"(version: 1
name: compose-test
topologies:
  lan: {type: mesh, num_nodes: 2, latency_ms: 1}
markets:
  m: {symbols: [S], initial_price: 100}
exchanges:
  - {id: ex-a, markets: [m]}
  - {id: ex-b, markets: [m]}
agents:
)" + agents + R"(  - {name: bob, strategy: external}
consensus: {protocol: raft, validators: 3}
)";
  auto parsed = scenario::parse(yaml, "compose-test.yaml");
  REQUIRE(parsed.has_value());
  return std::move(*parsed);
}

YAML::Node compose(const scenario::Scenario& s, int base_port = 7000) {
  const auto text = compose_file(s, {.scenario_source = "./deploy/scenarios/x.yaml",
                                     .build_context = ".",
                                     .image = "netmarket:latest",
                                     .command_line = "marketctl compose x.yaml",
                                     .base_port = base_port,
                                     .topology = "",
                                     .sync = "fsync"});
  REQUIRE(text.has_value());
  return YAML::Load(*text);
}

std::vector<std::string> keys(const YAML::Node& map) {
  std::vector<std::string> out;
  for (const auto& entry : map) out.push_back(entry.first.as<std::string>());
  return out;
}

std::vector<std::string> strings(const YAML::Node& list) {
  std::vector<std::string> out;
  for (const auto& item : list) out.push_back(item.as<std::string>());
  return out;
}

bool has(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

}  // namespace

TEST_CASE("compose: one service per node that can run, the setup first, external agents out") {
  const auto file = compose(load());
  const auto services = file["services"];
  CHECK(keys(services) == std::vector<std::string>{setup_service, "netproxy", "val-0", "val-1",
                                                   "val-2", "ex-a", "ex-b", "alice", "monitor",
                                                   prometheus_service_name});
  for (const auto& name : keys(services)) {
    if (name == prometheus_service_name) continue;
    CHECK(services[name]["image"].as<std::string>() == "netmarket:latest");
    if (name != setup_service) CHECK(services[name]["hostname"].as<std::string>() == name);
  }
  // Built once, by the service that runs first.
  CHECK(services[setup_service]["build"].as<std::string>() == ".");
  CHECK(!services["netproxy"]["build"]);
  CHECK(strings(services[setup_service]["command"]) ==
        std::vector<std::string>{"marketctl", "prepare", "/etc/netmarket/scenario.yaml",
                                 "--run=/market"});
}

TEST_CASE("compose: each stage waits for the one before to be healthy") {
  const auto services = compose(load())["services"];
  CHECK(services["netproxy"]["depends_on"][setup_service]["condition"].as<std::string>() ==
        "service_completed_successfully");
  CHECK(keys(services["val-1"]["depends_on"]) == std::vector<std::string>{"netproxy"});
  CHECK(keys(services["ex-a"]["depends_on"]) ==
        std::vector<std::string>{"val-0", "val-1", "val-2"});
  CHECK(services["ex-a"]["depends_on"]["val-2"]["condition"].as<std::string>() ==
        "service_healthy");
  CHECK(keys(services["alice"]["depends_on"]) == std::vector<std::string>{"ex-a", "ex-b"});
  CHECK(keys(services["monitor"]["depends_on"]) == std::vector<std::string>{"alice"});
  const auto monitor = strings(services["monitor"]["command"]);
  CHECK(has(monitor, "--metrics-port=7001"));
  CHECK(has(monitor, "--proxy-http-port=7002"));
  CHECK(strings(services["val-0"]["healthcheck"]["test"]) ==
        std::vector<std::string>{"CMD", "marketctl", "probe", "127.0.0.1:7000"});
  CHECK(strings(services["netproxy"]["healthcheck"]["test"]).back() == "127.0.0.1:7001");
}

TEST_CASE("compose: command lines name the containers' paths and each other by service name") {
  const auto services = compose(load())["services"];
  const auto exchange = strings(services["ex-a"]["command"]);
  CHECK(exchange.front() == "exchanged");
  CHECK(has(exchange, "--listen=0.0.0.0:7000"));
  CHECK(has(exchange, "--metrics-listen=0.0.0.0:7001"));
  CHECK(has(exchange, "--journal=/data/journal"));
  CHECK(has(exchange, "--accounts=/market/accounts"));
  CHECK(has(exchange, "--ledger=val-0:7000,val-1:7000,val-2:7000"));
  CHECK(has(exchange, "--proxy=netproxy:7000"));
  CHECK(has(exchange, "--config=/etc/netmarket/scenario.yaml"));
  CHECK(std::none_of(exchange.begin(), exchange.end(),
                     [](const std::string& a) { return a.starts_with("--ports-file"); }));
  const auto validator = strings(services["val-0"]["command"]);
  CHECK(has(validator, "--data-dir=/data"));
  CHECK(has(validator, "--addresses=/market/addresses"));
  const auto agent = strings(services["alice"]["command"]);
  CHECK(has(agent, "--epoch-file=/market/epoch"));
  const auto proxy = strings(services["netproxy"]["command"]);
  CHECK(has(proxy, "--control-listen=0.0.0.0:7001"));
}

TEST_CASE("compose: validators and exchanges keep their data in a named volume") {
  const auto file = compose(load());
  const auto volumes_of = [&](const std::string& service) {
    std::vector<std::string> out;
    for (const auto& v : file["services"][service]["volumes"]) {
      out.push_back(v["source"].as<std::string>() + ">" + v["target"].as<std::string>() +
                    (v["read_only"] ? ":ro" : ""));
    }
    return out;
  };
  CHECK(volumes_of("val-1") ==
        std::vector<std::string>{"./deploy/scenarios/x.yaml>/etc/netmarket/scenario.yaml:ro",
                                 "market>/market:ro", "data-val-1>/data"});
  CHECK(volumes_of("ex-b").back() == "data-ex-b>/data");
  CHECK(volumes_of("alice").size() == 2);
  CHECK(volumes_of(setup_service).back() == "market>/market");
  CHECK(keys(file["volumes"]) == std::vector<std::string>{"market", "prometheus", "data-val-0",
                                                          "data-val-1", "data-val-2", "data-ex-a",
                                                          "data-ex-b"});
}

TEST_CASE("compose: ports are published from the base in start order, or left to the engine") {
  auto services = compose(load())["services"];
  CHECK(strings(services["netproxy"]["ports"]) ==
        std::vector<std::string>{"7000:7000", "7001:7001", "7002:7002"});
  // Validators and agents only for the operator, on loopback; exchanges for everyone.
  CHECK(strings(services["val-0"]["ports"]) ==
        std::vector<std::string>{"127.0.0.1:7003:7000", "127.0.0.1:7004:7001"});
  CHECK(strings(services["ex-a"]["ports"]) == std::vector<std::string>{"7009:7000", "7010:7001"});
  services = compose(load(), 0)["services"];
  CHECK(strings(services["ex-a"]["ports"]) ==
        std::vector<std::string>{"127.0.0.1::7000", "127.0.0.1::7001"});
}

TEST_CASE("compose: Prometheus only in its profile, scraping what the setup wrote") {
  auto prometheus = compose(load())["services"][prometheus_service_name];
  CHECK(prometheus["image"].as<std::string>() == "netmarket-prometheus:latest");
  CHECK(strings(prometheus["profiles"]) == std::vector<std::string>{"prometheus"});
  CHECK(prometheus["build"]["context"].as<std::string>() == "./deploy/docker");
  CHECK(prometheus["build"]["dockerfile"].as<std::string>() == "prometheus.Dockerfile");
  CHECK(strings(prometheus["command"]).front() == "--config.file=/market/prometheus.yml");
  CHECK(prometheus["volumes"][0]["read_only"].as<bool>());
  CHECK(prometheus["depends_on"][setup_service]["condition"].as<std::string>() ==
        "service_completed_successfully");
  // After the market's ports (7000 to 7016: the monitor's metrics port is the last), on loopback.
  CHECK(strings(prometheus["ports"]) == std::vector<std::string>{"127.0.0.1:7017:9090"});
  prometheus = compose(load(), 0)["services"][prometheus_service_name];
  CHECK(strings(prometheus["ports"]) == std::vector<std::string>{"127.0.0.1::9090"});
  CHECK(!check_hostname(prometheus_service_name));
}

TEST_CASE("compose: a node id that cannot be a hostname is refused, naming the node") {
  CHECK(check_hostname("val-ny-1"));
  CHECK(check_hostname("a"));
  for (const std::string bad : {"Val-1", "val_1", "-val", "val-", "val.1", ""}) {
    INFO(bad);
    CHECK(!check_hostname(bad));
  }
  CHECK(!check_hostname(std::string(64, 'a')));
  CHECK(check_hostname(std::string(63, 'a')));
  const auto s = load("  - {name: trader_1, strategy: noise}\n");
  const auto text = compose_file(s, {});
  REQUIRE(!text);
  CHECK(text.error().find("node 'trader_1' cannot be a container's hostname") == 0);
}

TEST_CASE("compose: dollar signs and quotes are escaped, not interpolated") {
  auto s = load();
  ComposeOptions options;
  options.scenario_source = "./my $HOME/\"x\".yaml";
  const auto text = compose_file(s, options);
  REQUIRE(text);
  const auto file = YAML::Load(*text);
  CHECK(file["services"]["val-0"]["volumes"][0]["source"].as<std::string>() ==
        "./my $$HOME/\"x\".yaml");
}

TEST_CASE("compose --swarm: a stack file with configs, one pinned replica per node, no ordering") {
  ComposeOptions options;
  options.scenario_source = "./x.yaml";
  options.swarm = true;
  options.market_source = "./market";
  const auto text = compose_file(load(), options);
  REQUIRE(text);
  const auto file = YAML::Load(*text);
  CHECK(file["version"].as<std::string>() == "3.9");
  const auto services = file["services"];
  CHECK(!services[setup_service]);  // the shared files are configs, prepared beforehand
  for (const auto& name : keys(services)) {
    const auto service = services[name];
    INFO(name);
    CHECK(!service["depends_on"]);  // stack deploy has no ordered start: each retries
    CHECK(!service["build"]);
    CHECK(service["deploy"]["replicas"].as<int>() == 1);
    CHECK(service["deploy"]["endpoint_mode"].as<std::string>() == "dnsrr");
    CHECK(service["deploy"]["restart_policy"]["condition"].as<std::string>() == "on-failure");
    // The scenario, accounts, addresses and epoch; exchanges the ledger keys too, validators
    // the ledger's and the validators' keys.
    const std::size_t keys = name.starts_with("val-") ? 2 : name.starts_with("ex-") ? 1 : 0;
    CHECK(service["configs"].size() == 4 + keys);
  }
  CHECK(services["val-0"]["configs"][1]["target"].as<std::string>() == "/market/accounts");
  CHECK(services["ex-a"]["configs"][2]["target"].as<std::string>() == "/market/ledger-keys");
  CHECK(services["val-0"]["configs"][3]["target"].as<std::string>() == "/market/validator-keys");
  CHECK(strings(services["val-1"]["deploy"]["placement"]["constraints"]) ==
        std::vector<std::string>{"node.labels.netmarket.val-1 == true"});
  CHECK(strings(services["netproxy"]["deploy"]["placement"]["constraints"]).size() == 1);
  CHECK(!services["alice"]["deploy"]["placement"]);  // agents go anywhere
  CHECK(!services["val-0"]["ports"]);                // only the proxy and the exchanges publish
  CHECK(services["ex-a"]["ports"][0]["mode"].as<std::string>() == "host");
  CHECK(services["ex-a"]["ports"][0]["published"].as<int>() == 7009);
  CHECK(file["configs"]["accounts"]["file"].as<std::string>() == "./market/accounts");
  CHECK(file["configs"]["scenario"]["file"].as<std::string>() == "./x.yaml");
  CHECK(keys(file["volumes"]) == std::vector<std::string>{"data-val-0", "data-val-1", "data-val-2",
                                                          "data-ex-a", "data-ex-b"});
}

TEST_CASE("prometheus: one job per role, a target per node with its labels, valid YAML") {
  const auto s = load();
  const auto text = prometheus_config(s, compose_metrics_targets(s), "marketctl prometheus x");
  const YAML::Node config = YAML::Load(text);
  CHECK(config["global"]["scrape_interval"].as<std::string>() == "1s");
  std::map<std::string, std::vector<std::string>> jobs;
  for (const auto& job : config["scrape_configs"]) {
    for (const auto& target : job["static_configs"]) {
      jobs[job["job_name"].as<std::string>()].push_back(target["targets"][0].as<std::string>());
      CHECK(target["labels"]["node"]);
    }
  }
  CHECK(jobs["exchange"] == std::vector<std::string>{"ex-a:7001", "ex-b:7001"});
  CHECK(jobs["validator"].size() == 3);
  CHECK(jobs["proxy"] == std::vector<std::string>{"netproxy:7002"});
  CHECK(jobs["agent"] == std::vector<std::string>{"alice:7001"});  // the external one is not run
}

TEST_CASE("prometheus: a local market's targets come from its run folder's ports") {
  const auto s = load();
  mkt::runtime::RunState state;
  state.nodes = {{.id = "ex-a", .role = "exchange", .ports = {{"grpc", 5000}, {"metrics", 5001}}},
                 {.id = "netproxy", .role = "proxy", .ports = {{"control", 5101}, {"http", 5102}}},
                 {.id = "val-0", .role = "validator", .ports = {}},  // not serving yet
                 {.id = "stranger", .role = "agent", .ports = {{"metrics", 5201}}}};
  CHECK(local_metrics_targets(s, state) ==
        std::map<std::string, std::string>{{"ex-a", "127.0.0.1:5001"},
                                           {"netproxy", "127.0.0.1:5102"}});
}

TEST_CASE("compose --tls: the setup makes the certificates and every node and check uses its own") {
  ComposeOptions options;
  options.scenario_source = "./x.yaml";
  options.tls = true;
  const auto text = compose_file(load(), options);
  REQUIRE(text);
  const auto services = YAML::Load(*text)["services"];
  CHECK(strings(services[setup_service]["command"]) ==
        std::vector<std::string>{"marketctl", "prepare", "/etc/netmarket/scenario.yaml",
                                 "--run=/market", "--tls"});
  for (const auto& name : keys(services)) {
    if (name == setup_service || name == prometheus_service_name) continue;
    INFO(name);
    CHECK(has(strings(services[name]["command"]), "--tls-dir=/market/tls"));
    // The container asks itself, as itself.
    const auto test = strings(services[name]["healthcheck"]["test"]);
    REQUIRE(test.size() == 6);
    CHECK(test[3] == "--tls-dir=/market/tls");
    CHECK(test[4] == "--as=" + name);
  }

  SECTION("swarm: each node gets the CA and its own key and certificate, no other's") {
    options.swarm = true;
    options.market_source = "./market";
    const auto swarm = compose_file(load(), options);
    REQUIRE(swarm);
    const auto file = YAML::Load(*swarm);
    std::vector<std::string> targets;
    for (const auto& config : file["services"]["ex-a"]["configs"]) {
      targets.push_back(config["target"].as<std::string>());
    }
    CHECK(has(targets, "/market/tls/ca.pem"));
    CHECK(has(targets, "/market/tls/ex-a.pem"));
    CHECK(has(targets, "/market/tls/ex-a.key"));
    CHECK(!has(targets, "/market/tls/ex-b.key"));
    CHECK(file["configs"]["tls-ex-b.key"]["file"].as<std::string>() == "./market/tls/ex-b.key");
    CHECK(file["configs"]["tls-ca.pem"]["file"].as<std::string>() == "./market/tls/ca.pem");
  }
}
