#include "cli.h"
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
    targets = local_metrics_targets(*scenario, *state);
    made += " --local --run " + run.dir.string();
  } else {
    targets = compose_metrics_targets(*scenario);
  }
  const auto output = flags["output"].as<std::string>();
  return write_output("prometheus", output, prometheus_config(*scenario, targets, made),
                      "`prometheus --config.file=" + output + "` scrapes " +
                          std::to_string(targets.size()) + " nodes");
}

}  // namespace mkt::marketctl
