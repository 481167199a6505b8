#include "mkt/runtime/run_folder.h"

#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <filesystem>

#include "mkt/runtime/files.h"

using namespace mkt::runtime;

TEST_CASE("marketctl: the state file reads back what was written") {
  RunState state;
  state.supervisor = 123;
  state.phase = "running";
  state.scenario = "demo";
  state.nodes.push_back({.id = "netproxy",
                         .role = "proxy",
                         .state = NodeState::running,
                         .pid = 124,
                         .restarts = 0,
                         .exit = 0,
                         .ports = {{"proxy", 4000}, {"control", 4001}, {"http", 4002}}});
  state.nodes.push_back({.id = "val-0",
                         .role = "validator",
                         .state = NodeState::killed,
                         .pid = 125,
                         .restarts = 2,
                         .exit = 137,
                         .ports = {{"grpc", 5000}, {"metrics", 5001}}});
  state.nodes.push_back({.id = "ex-1", .role = "exchange", .ports = {}});
  const auto text = format_state(state);
  auto parsed = parse_state(text);
  REQUIRE(parsed.has_value());
  CHECK(format_state(*parsed) == text);
  CHECK(parsed->supervisor == 123);
  CHECK(parsed->phase == "running");
  REQUIRE(parsed->find("val-0") != nullptr);
  CHECK(parsed->find("val-0")->state == NodeState::killed);
  CHECK(parsed->find("val-0")->exit == 137);
  CHECK(parsed->find("val-0")->port("metrics") == 5001);
  CHECK(parsed->find("netproxy")->port("grpc") == 0);
  CHECK(parsed->find("ex-1")->state == NodeState::pending);
  CHECK(parsed->find("nobody") == nullptr);
}

TEST_CASE("marketctl: a damaged state file is refused with the line") {
  CHECK(parse_state("").error() == "state: no supervisor record");
  CHECK(parse_state("supervisor pid=1\nnode role=x\n").error() ==
        "state line 2: a node without id=");
  CHECK(parse_state("supervisor pid=x\n").error().starts_with("state line 1: bad value"));
  CHECK(parse_state("supervisor pid=1\nnode id=a state=dreaming\n")
            .error()
            .starts_with("state line 2: bad value in 'state=dreaming'"));
  CHECK(parse_state("supervisor pid=1\nnode id=a grpc\n").error() ==
        "state line 2: expected key=value");
  CHECK(parse_state("what pid=1\n").error() == "state line 1: unknown record 'what'");
}

TEST_CASE("marketctl: ports files and the addresses file") {
  auto ports = parse_ports("grpc 5000\nmetrics 5001\n");
  REQUIRE(ports.has_value());
  CHECK(*ports == Ports{{"grpc", 5000}, {"metrics", 5001}});
  CHECK_FALSE(parse_ports("").has_value());
  CHECK_FALSE(parse_ports("grpc 70000\n").has_value());
  CHECK_FALSE(parse_ports("grpc\n").has_value());
  std::vector<NodeRecord> nodes{{.id = "val-0", .role = "validator", .ports = {{"grpc", 5000}}},
                                {.id = "netproxy", .role = "proxy", .ports = {{"proxy", 4000}}},
                                {.id = "ex-1", .role = "exchange", .ports = {}}};
  CHECK(format_addresses(nodes) == "val-0 127.0.0.1:5000\n");
}

TEST_CASE("marketctl: process_alive tells the living from the gone") {
  CHECK(process_alive(::getpid()));
  CHECK_FALSE(process_alive(0));
  CHECK_FALSE(process_alive(-1));
  CHECK_FALSE(process_alive(999'999'999));
}

TEST_CASE("marketctl: API keys are fresh 32 hex digits") {
  const auto a = random_api_key();
  const auto b = random_api_key();
  CHECK(a.size() == 32);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}

TEST_CASE("run folder: the epoch file holds Unix ns, read by marketctl and agents alike") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("epoch-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& text) {
    REQUIRE(write_file_atomically((dir / "epoch").string(), text));
    return read_epoch(dir / "epoch");
  };
  CHECK(write("1796276866233748241\n").value() == 1796276866233748241);
  CHECK(write("42").value() == 42);
  CHECK(!write("soon\n"));
  CHECK(write("12x\n").error().find("does not hold a time in ns: '12x") != std::string::npos);
  CHECK(!write("-5\n"));
  CHECK(!read_epoch(dir / "missing"));
  CHECK(port_of({{"grpc", 7000}, {"metrics", 7001}}, "metrics") == 7001);
  CHECK(port_of({{"grpc", 7000}}, "http") == 0);
  std::filesystem::remove_all(dir);
}
