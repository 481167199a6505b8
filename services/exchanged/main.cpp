// exchanged: one trading venue of a scenario, served over gRPC, journalled to disk.
#include "node.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description own("exchanged options");
  // clang-format off
  own.add_options()
      ("journal", po::value<std::string>(),
       "the journal file, replayed on start (PATH.manifest is kept beside it)")
      ("journal-batch-us", po::value<unsigned>()->default_value(0),
       "wait this long to gather a batch before writing it (0: write as soon as the disk is free)")
      ("accounts", po::value<std::string>(),
       "file of '<account id> <api key>' lines: the keys of the scenario's agents and any "
       "further accounts")
      ("ledger", po::value<std::string>(),
       "host:port[,host:port...] of the validators to report trades to; without it trades are "
       "not settled")
      ("ledger-keys", po::value<std::string>(),
       "file of '<exchange id> <key>' lines (marketctl writes <run>/ledger-keys): this "
       "exchange's credential to the ledger, required with --ledger")
      ("message-bytes-max", po::value<unsigned>()->default_value(64 * 1024),
       "largest request accepted; larger ones fail with RESOURCE_EXHAUSTED")
      ("print-trades", "read the journal without changing it (a running exchange may be writing "
       "it), print every trade it made and the settlement's state, and exit: for `marketctl verify`");
  // clang-format on
  const mkt::runtime::ServiceSpec spec{
      .binary = "exchanged",
      .summary = "one trading venue of a scenario: matching, order entry, market data",
      .role = mkt::scenario::Role::exchange,
      .role_phrase = "an exchange",
      .listen_help = "the Exchange service (orders, market data) and Telemetry",
      .addresses = false,
      .sync_flag = "journal-sync",
      .sync_help =
          "fsync: each batch reaches the disk before it is acknowledged; none: the page "
          "cache (survives kill -9, not a power cut)"};
  return mkt::runtime::service_main(argc, argv, spec, own, mkt::exchanged::run_node);
}
