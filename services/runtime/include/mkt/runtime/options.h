#pragma once
// The flags every binary takes: --help, --version, --config <scenario.yaml>, --node <id>,
// --topology, --log-format text|json, --log-level, plus a binary's own; a service (a binary that
// needs a scenario) also takes --ports-file. For a service, parsing
// also loads the scenario and checks that the node is in it, so a service starts with a valid
// configuration or not at all.

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>
#include <expected>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mkt/runtime/logging.h"
#include "mkt/scenario/scenario.h"

namespace mkt::runtime {

struct CommonOptions {
  std::string config_path;
  std::string node_id;
  std::string topology;  // overrides the scenario's network.topology when set
  LogFormat log_format = LogFormat::text;
  std::string log_level = "info";
  boost::program_options::variables_map extra;  // the binary's own flags
  // Loaded and checked when the binary needs a scenario; empty otherwise.
  std::optional<scenario::Scenario> scenario;
};

// What parsing decided: run with these options, or exit now with this code: 0 after --help or
// --version, 2 for a bad command line, 1 for a scenario that does not load or lacks the node
// (the message is already on stderr).
struct ParsedCommandLine {
  std::optional<CommonOptions> options;
  int exit_code = 0;
};

// `binary` and `summary` head the --help text. `own` adds the binary's flags. When
// `needs_scenario` is true, --config and --node are required and the scenario is loaded.
ParsedCommandLine parse_command_line(int argc, const char* const* argv, const std::string& binary,
                                     const std::string& summary,
                                     const boost::program_options::options_description& own,
                                     bool needs_scenario = true);

// Reads and parses a scenario file. Errors are the loader's diagnostics, or why the file could
// not be read.
std::expected<scenario::Scenario, std::string> load_scenario_file(const std::string& path,
                                                                  const std::string& topology = {});

// The ports a process serves on, by name ("grpc", "metrics", "control", ...).
using NamedPorts = std::vector<std::pair<std::string, int>>;

// With --ports-file among `flags`, writes `<name> <port>` lines there once every port is bound
// (atomically, so a reader sees all of them or no file: its existence says "serving"); without
// it, does nothing. marketctl waits for this file.
std::expected<void, std::string> write_ports_file(
    const boost::program_options::variables_map& flags, const NamedPorts& ports);

}  // namespace mkt::runtime
