// validatord: one consensus validator of a scenario (Raft), replicating the trade ledger.
#include "node.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  po::options_description own("validatord options");
  // clang-format off
  own.add_options()
      ("data-dir", po::value<std::string>(), "where the write-ahead log and snapshot live")
      ("ledger-keys", po::value<std::string>(),
       "file of '<exchange id> <key>' lines (marketctl writes <run>/ledger-keys): every "
       "exchange's key, which its trade batches must carry (required)")
      ("validator-keys", po::value<std::string>(),
       "file of '<validator id> <key>' lines (marketctl writes <run>/validator-keys): every "
       "validator's key, which its Raft messages carry (required)")
      ("peer", po::value<std::vector<std::string>>(),
       "<validator>=<host>:<port> of a peer; repeat for each (instead of or before --addresses)")
      ("tick-ms", po::value<unsigned>(), "heartbeat interval (default: the scenario's heartbeat_ms)")
      ("election-timeout-ms", po::value<unsigned>(),
       "election timeout, randomized up to twice this (default: the scenario's)")
      ("compact-entries", po::value<std::uint64_t>()->default_value(10'000),
       "snapshot the ledger and compact the log after this many applied entries")
      ("message-bytes-max", po::value<unsigned>()->default_value(256u << 20),
       "largest message accepted (a snapshot travels in one)");
  // clang-format on
  const mkt::runtime::ServiceSpec spec{
      .binary = "validatord",
      .summary = "one consensus validator (Raft) replicating the trade ledger",
      .role = mkt::scenario::Role::validator,
      .role_phrase = "a validator",
      .listen_help = "the Ledger service (clients) and the Raft service (peers)",
      .sync_flag = "wal-sync",
      .sync_help =
          "fsync: every Ready is on disk before its messages are sent; none: the page "
          "cache (survives kill -9, not a power cut)"};
  return mkt::runtime::service_main(argc, argv, spec, own, mkt::validatord::run_node);
}
