// marketctl: the command line of the market. Starts a scenario as local processes and operates
// it: status, kill, restart, partitions and links, manual orders, the ledger.
#include <iostream>
#include <string>
#include <string_view>

#include "check.h"
#include "cli.h"
#include "mkt/runtime/options.h"
#include "netmarket/version.h"

namespace {

constexpr std::string_view usage =
    R"(marketctl - operate a market of exchanges, agents and validators

Usage: marketctl <command> [options]

Starting and stopping (every command but check takes --run DIR, default ./run, or
--compose <project or compose file> for a market of containers):
  up <scenario.yaml> [--detach]     start every node as a local process and supervise them
  down                              stop a market started with --detach
  kill <node>                       SIGKILL one process (it stays down)
  restart <node>                    stop and start one process on the same ports
  pause <node> / unpause <node>     freeze a process with its sockets open, and thaw it
  disconnect <node> / connect <node>
                                    take a container off its network and back (compose only)

Looking:
  status                            nodes, roles, health, Raft leader, rates
  book <symbol> [--venue EX]        an exchange's order book
  ledger tail [--follow]            committed trade batches

The network (through the proxy):
  partition <nodes...> [--from <nodes...>] [--shape ...]   cut the network
  heal [<id>]                       end one partition or all
  link set <src> <dst> --latency 50ms --jitter 5ms --loss 1% --bandwidth 1mbit
  link show [<src> [<dst>]]         the links and their parameters
  link reset                        every link back to the scenario's

Drills:
  drill [plan.yaml] [--kill-leader N] [--pause-follower] [--ring] [--soak 30m] [--verify]
                                    inject faults while the agents trade, record them, heal
  verify [--drill RECORD]           check that nothing was lost: replicas, batches, trades, cash

Trading by hand:
  order submit --symbol S --side buy|sell --quantity N --price P [--venue EX] [--account A]
  order cancel --id ORDER_ID [--venue EX]

Scenarios:
  check --config <scenario.yaml> [--topology NAME]
                                    validate a scenario and print what it declares
  prometheus <scenario.yaml> [-o FILE] [--local]
                                    Prometheus's scrape configuration of its market

Containers:
  compose <scenario.yaml> [-o FILE] write the scenario's compose file (docker compose up)
  prepare <scenario.yaml> --run DIR write a compose market's shared files (its setup service)
  probe <host:port>                 ask a server's grpc.health.v1 (the containers' health check)

Run 'marketctl <command> --help' for a command's options.
Options: --help, --version.
)";

using CommandFunction = int (*)(int, char**);

struct Command {
  std::string_view name;
  CommandFunction run;
};

constexpr Command commands[] = {
    {"up", mkt::marketctl::up_command},
    {"down", mkt::marketctl::down_command},
    {"kill", mkt::marketctl::node_command},
    {"restart", mkt::marketctl::node_command},
    {"pause", mkt::marketctl::node_command},
    {"unpause", mkt::marketctl::node_command},
    {"disconnect", mkt::marketctl::node_command},
    {"connect", mkt::marketctl::node_command},
    {"status", mkt::marketctl::status_command},
    {"partition", mkt::marketctl::partition_command},
    {"heal", mkt::marketctl::heal_command},
    {"link", mkt::marketctl::link_command},
    {"order", mkt::marketctl::order_command},
    {"book", mkt::marketctl::book_command},
    {"ledger", mkt::marketctl::ledger_command},
    {"compose", mkt::marketctl::compose_command},
    {"prepare", mkt::marketctl::prepare_command},
    {"probe", mkt::marketctl::probe_command},
    {"verify", mkt::marketctl::verify_command},
    {"drill", mkt::marketctl::drill_command},
    {"prometheus", mkt::marketctl::prometheus_command},
};

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
  for (const auto& c : commands) {
    if (c.name == command) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "marketctl: unknown command '" << command << "'\n\n" << usage;
  return 2;
}
