// Checks the command line every binary shares: --help and --version exit 0, missing or bad flags
// exit 2 with a message, and scenario files load with the loader's diagnostics on error.
#include "mkt/runtime/options.h"

#include <unistd.h>

#include <boost/program_options/parsers.hpp>
#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <fstream>
#include <vector>

namespace {

mkt::runtime::ParsedCommandLine parse(std::vector<const char*> args, bool needs_scenario = true) {
  args.insert(args.begin(), "testd");
  boost::program_options::options_description own("testd options");
  own.add_options()("listen", boost::program_options::value<std::string>(), "address");
  return mkt::runtime::parse_command_line(static_cast<int>(args.size()), args.data(), "testd",
                                          "a test", own, needs_scenario);
}

const std::string reference = std::string(NETMARKET_SCENARIOS_DIR) + "/reference.yaml";

}  // namespace

TEST_CASE("help and version flags exit at once with 0") {
  for (const char* flag : {"--help", "-h", "--version"}) {
    const auto parsed = parse({flag});
    CHECK_FALSE(parsed.options);
    CHECK(parsed.exit_code == 0);
  }
}

TEST_CASE("services require --config and --node") {
  CHECK(parse({"--node", "x"}).exit_code == 2);
  CHECK(parse({}, false).options.has_value());
}

TEST_CASE("bad flags exit with 2") {
  CHECK(parse({"--config", "a", "--node", "b", "--log-format", "xml"}).exit_code == 2);
  CHECK(parse({"--config", "a", "--node", "b", "--log-level", "loud"}).exit_code == 2);
  CHECK(parse({"--config", "a", "--node", "b", "--frobnicate"}).exit_code == 2);
}

TEST_CASE("good flags are returned with the binary's own and the loaded scenario") {
  const auto parsed = parse({"--config", reference.c_str(), "--node", "ex-multi", "--log-format",
                             "json", "--listen", "127.0.0.1:0"});
  REQUIRE(parsed.options);
  CHECK(parsed.options->config_path == reference);
  CHECK(parsed.options->node_id == "ex-multi");
  REQUIRE(parsed.options->scenario);
  CHECK(parsed.options->scenario->find_node("ex-multi")->role == mkt::scenario::Role::exchange);
  CHECK(parsed.options->log_format == mkt::runtime::LogFormat::json);
  CHECK(parsed.options->extra["listen"].as<std::string>() == "127.0.0.1:0");
}

TEST_CASE("a scenario that does not load, or lacks the node, exits with 1") {
  CHECK(parse({"--config", "/nonexistent/x.yaml", "--node", "ex"}).exit_code == 1);
  CHECK(parse({"--config", reference.c_str(), "--node", "nobody"}).exit_code == 1);
  CHECK(parse({"--config", reference.c_str(), "--node", "ex-multi", "--topology", "star_network"})
            .exit_code == 1);
}

TEST_CASE("scenario files load from disk") {
  const auto loaded = mkt::runtime::load_scenario_file(reference);
  REQUIRE(loaded.has_value());
  CHECK(loaded->name == "reference");
  const auto missing = mkt::runtime::load_scenario_file("/nonexistent/x.yaml");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error() == "/nonexistent/x.yaml: cannot open the file");
  const auto other = mkt::runtime::load_scenario_file(reference, "mesh_network");
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().find("unknown region 'us_west'") != std::string::npos);
}

TEST_CASE("the ports file is written only when asked for") {
  namespace po = boost::program_options;
  po::options_description own;
  own.add_options()("ports-file", po::value<std::string>());
  const auto path =
      std::filesystem::temp_directory_path() / ("ports-file-test-" + std::to_string(::getpid()));
  po::variables_map none;
  CHECK(mkt::runtime::write_ports_file(none, {{"grpc", 1234}}).has_value());
  CHECK_FALSE(std::filesystem::exists(path));
  po::variables_map flags;
  const std::string arg = "--ports-file=" + path.string();
  const char* argv[] = {"x", arg.c_str()};
  po::store(po::parse_command_line(2, argv, own), flags);
  REQUIRE(mkt::runtime::write_ports_file(flags, {{"grpc", 1234}, {"metrics", 80}}).has_value());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "grpc 1234\nmetrics 80\n");
  std::filesystem::remove(path);
  po::variables_map unwritable;
  const std::string bad = "--ports-file=/nonexistent-dir/ports";
  const char* bad_argv[] = {"x", bad.c_str()};
  po::store(po::parse_command_line(2, bad_argv, own), unwritable);
  CHECK_FALSE(mkt::runtime::write_ports_file(unwritable, {{"grpc", 1}}).has_value());
}
