// marketctl: the command line of the market. This version has `check`; `up`, `down`, `status`,
// `kill`, `partition`, `heal`, `link`, `order`, `book` and `ledger` come with the issues that
// build what they operate.
#include <iostream>
#include <string>
#include <string_view>

#include "check.h"
#include "mkt/runtime/options.h"
#include "netmarket/version.h"

namespace {

constexpr std::string_view usage =
    R"(marketctl - operate a market of exchanges, agents and validators

Usage: marketctl <command> [options]

Commands:
  check --config <scenario.yaml> [--topology NAME]
        Validate a scenario and print the nodes, sites and disruptions it declares.

Run 'marketctl <command> --help' for a command's options.
Options: --help, --version.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << usage;
    return 0;
  }
  if (command == "--version") {
    std::cout << "marketctl " << mkt::version_string << "\n";
    return 0;
  }
  if (command == "check") {
    const auto parsed = mkt::runtime::parse_command_line(
        argc - 1, argv + 1, "marketctl check", "validate a scenario file",
        boost::program_options::options_description("check options"), false);
    if (!parsed.options) return parsed.exit_code;
    if (parsed.options->config_path.empty()) {
      std::cerr << "marketctl check: --config <scenario.yaml> is required\n";
      return 2;
    }
    return mkt::marketctl::check(*parsed.options, std::cout, std::cerr);
  }
  std::cerr << "marketctl: unknown command '" << command << "'\n\n" << usage;
  return 2;
}
