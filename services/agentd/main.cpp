// agentd: one trading agent of a scenario, its strategy run against the venues over gRPC.
#include "node.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description own("agentd options");
  // clang-format off
  own.add_options()
      ("accounts", po::value<std::string>(),
       "file of '<account id> <api key>' lines; the agent trades with the key of its node id")
      ("exchange", po::value<std::vector<std::string>>(),
       "id=host:port of an exchange (repeatable); overrides --addresses")
      ("epoch-ns", po::value<std::int64_t>()->default_value(0),
       "the market's time 0 (Unix ns), the same for every agent of a market; 0: this start")
      ("epoch-file", po::value<std::string>(),
       "a file holding the market's time 0 (Unix ns), as marketctl writes it (<run>/epoch)");
  // clang-format on
  const mkt::runtime::ServiceSpec spec{
      .binary = "agentd",
      .summary = "one trading agent of a scenario: its strategy, books and orders",
      .role = mkt::scenario::Role::agent,
      .role_phrase = "an agent",
      .listen_help = "the Peer service (signals, coordination)"};
  return mkt::runtime::service_main(argc, argv, spec, own, mkt::agentd::run_node);
}
