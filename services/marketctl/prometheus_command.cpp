#include <iostream>

#include "cli.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/run_folder.h"
#include "prometheus.h"

namespace mkt::marketctl {

namespace po = boost::program_options;

int prometheus_command(int argc, char** argv) {
  po::options_description options("prometheus options");
  // clang-format off
  options.add_options()
      ("scenario", po::value<std::string>()->required(), "the scenario file")
      ("output,o", po::value<std::string>()->default_value("-"),
       "where to write the configuration (-: standard output)")
      ("local", "the market `marketctl up` runs in --run: its nodes' ports on 127.0.0.1 (default: "
       "a compose market's, by service name)");
  // clang-format on
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl prometheus <scenario.yaml> [-o prometheus.yml] [--local --run DIR]\n\n"
      "Writes Prometheus's scrape configuration of the scenario's market: every node's metrics.",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  const auto scenario_path = flags["scenario"].as<std::string>();
  auto scenario = runtime::load_scenario_file(scenario_path, "");
  if (!scenario) return fail("prometheus", scenario.error());
  std::string made = "marketctl prometheus " + scenario_path;
  std::map<std::string, std::string> targets;
  if (flags.count("local") != 0) {
    const runtime::RunPaths run{flags["run"].as<std::string>()};
    const auto state = runtime::read_state(run);
    if (!state) return fail("prometheus", state.error());
    for (const auto& record : state->nodes) {
      const auto* node = scenario->find_node(record.id);
      if (node == nullptr) continue;
      if (const int port = record.port(metrics_port_name(node->role)); port != 0) {
        targets[record.id] = "127.0.0.1:" + std::to_string(port);
      }
    }
    made += " --local --run " + run.dir.string();
  } else {
    targets = compose_metrics_targets(*scenario);
  }
  const std::string text = prometheus_config(*scenario, targets, made);
  const auto output = flags["output"].as<std::string>();
  if (output == "-") {
    std::cout << text;
    return 0;
  }
  if (auto ok = runtime::write_file_atomically(output, text); !ok)
    return fail("prometheus", ok.error());
  std::cout << "wrote " << output << ": `prometheus --config.file=" << output << "` scrapes "
            << targets.size() << " nodes\n";
  return 0;
}

}  // namespace mkt::marketctl
