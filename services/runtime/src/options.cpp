#include "mkt/runtime/options.h"

#include <boost/program_options/parsers.hpp>
#include <iostream>

#include "mkt/runtime/files.h"
#include "netmarket/version.h"

namespace mkt::runtime {

namespace po = boost::program_options;

std::expected<scenario::Scenario, std::string> load_scenario_file(const std::string& path,
                                                                  const std::string& topology) {
  const auto buffer = read_file(path, scenario::file_bytes_max);
  if (!buffer) return std::unexpected(buffer.error());
  auto loaded = scenario::parse(*buffer, path, topology);
  if (!loaded) return std::unexpected(loaded.error().to_string());
  return std::move(*loaded);
}

ParsedCommandLine parse_command_line(int argc, const char* const* argv, const std::string& binary,
                                     const std::string& summary, const po::options_description& own,
                                     bool needs_scenario) {
  po::options_description common("Common options");
  // clang-format off
  common.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config", po::value<std::string>(), "scenario file (YAML)")
      ("node", po::value<std::string>(), "this process's node id in the scenario")
      ("topology", po::value<std::string>(),
       "use this topology of the scenario instead of its own choice")
      ("log-format", po::value<std::string>()->default_value("text"), "text or json (JSON lines)")
      ("log-level", po::value<std::string>()->default_value("info"),
       "trace, debug, info, warn or error");
  // clang-format on
  if (needs_scenario) {
    common.add_options()("ports-file", po::value<std::string>(),
                         "write '<name> <port>' lines for every bound port to this file once "
                         "serving (marketctl waits for it)");
  }
  po::options_description all;
  all.add(common).add(own);

  ParsedCommandLine result;
  CommonOptions options;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).run(), options.extra);
    po::notify(options.extra);
  } catch (const po::error& e) {
    std::cerr << binary << ": " << e.what() << " (see " << binary << " --help)\n";
    result.exit_code = 2;
    return result;
  }
  const auto& vm = options.extra;
  if (vm.count("help")) {
    std::cout << binary << " - " << summary << "\n\nUsage: " << binary
              << (needs_scenario ? " --config <scenario.yaml> --node <id> [options]" : " [options]")
              << "\n\n"
              << all << "\n";
    return result;
  }
  if (vm.count("version")) {
    std::cout << binary << " " << version_string << "\n";
    return result;
  }
  const std::string format = vm["log-format"].as<std::string>();
  const std::string level = vm["log-level"].as<std::string>();
  if (format != "text" && format != "json") {
    std::cerr << binary << ": --log-format must be text or json, not '" << format << "'\n";
    result.exit_code = 2;
    return result;
  }
  if (level != "trace" && level != "debug" && level != "info" && level != "warn" &&
      level != "error") {
    std::cerr << binary << ": --log-level must be trace, debug, info, warn or error\n";
    result.exit_code = 2;
    return result;
  }
  options.log_format = format == "json" ? LogFormat::json : LogFormat::text;
  options.log_level = level;
  if (vm.count("config")) options.config_path = vm["config"].as<std::string>();
  if (vm.count("node")) options.node_id = vm["node"].as<std::string>();
  if (vm.count("topology")) options.topology = vm["topology"].as<std::string>();
  if (needs_scenario) {
    if (options.config_path.empty() || options.node_id.empty()) {
      std::cerr << binary << ": --config and --node are required (see " << binary << " --help)\n";
      result.exit_code = 2;
      return result;
    }
    auto loaded = load_scenario_file(options.config_path, options.topology);
    if (!loaded) {
      std::cerr << loaded.error();
      result.exit_code = 1;
      return result;
    }
    if (!loaded->find_node(options.node_id)) {
      std::cerr << binary << ": node '" << options.node_id << "' is not in " << options.config_path
                << "\n";
      result.exit_code = 1;
      return result;
    }
    options.scenario = std::move(*loaded);
  }
  result.options = std::move(options);
  return result;
}

std::expected<void, std::string> write_ports_file(
    const boost::program_options::variables_map& flags, const NamedPorts& ports) {
  if (!flags.count("ports-file")) return {};
  const auto path = flags["ports-file"].as<std::string>();
  std::string text;
  for (const auto& [name, port] : ports) text += name + " " + std::to_string(port) + "\n";
  auto written = write_file_atomically(path, text);
  if (!written) return std::unexpected("ports file: " + written.error());
  return {};
}

}  // namespace mkt::runtime
