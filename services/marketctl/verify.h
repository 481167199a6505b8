#pragma once
// The checker `marketctl verify` runs after a drill, Jepsen-style: what the market's parts say,
// gathered once the workload is frozen and settled, against what must hold. I/O-free: the command
// gathers a VerifyInput from the running market (validators, the ledger's log, each exchange's
// journal replayed read-only, accounts, agents' metrics, the drill's record); the tests build
// inputs by hand.
//
// What must hold (each a Check, with the offending items when it fails):
//   replicas      every validator answers with the same applied index and ledger hash;
//   batches       per exchange, the applied batches are sequences 1..N, none missing, none applied
//                 twice (a repeated sequence in the log must repeat the batch exactly, and is
//                 skipped, as the ledger skips it); N reaches the last batch the exchange's journal
//                 records as acknowledged: an acknowledged batch is never lost;
//   trades        every trade an exchange journalled is in the ledger exactly once, with the same
//                 symbol, price, quantity and accounts, and the ledger has no trade the journal
//                 never made; nothing stays unsettled after the recovery window;
//   conservation  cash moves between accounts only (it sums to zero over every account: the
//                 ledger keeps net changes, see LedgerAccount in ledger.proto), positions per
//                 exchange and symbol sum to zero, and every account's cash and positions are
//                 what the applied trades make them.
// Counted apart, never a failure by themselves: orders whose acknowledgement never came
// (indeterminate, as in Jepsen's set checker: they may have settled or not, and the trades check
// shows none settled twice), and the longest window without a commit during each fault.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mkt::marketctl {

struct TradeRow {
  std::uint64_t id = 0;
  std::string symbol;
  std::int64_t price_ticks = 0;
  std::int64_t quantity_lots = 0;
  std::string buyer;
  std::string seller;
  std::int64_t notional = 0;  // the ledger's (cash minor units); a journal's rows leave it 0
};

// One committed entry of the log: a trade batch, or an internal entry (no exchange).
struct LogEntry {
  std::uint64_t index = 0;
  std::string exchange;  // empty: internal
  std::uint64_t sequence = 0;
  std::vector<TradeRow> trades;
};

struct ReplicaView {
  std::string node;
  bool answered = false;
  std::uint64_t applied_index = 0;
  std::uint64_t ledger_hash = 0;
};

// An exchange's journal, replayed (`exchanged --print-trades`).
struct JournalView {
  std::string exchange;
  std::vector<TradeRow> trades;
  std::uint64_t acknowledged = 0;  // the last batch the ledger acknowledged, as journalled
  std::uint64_t unsettled = 0;     // the exchange's own count after the recovery window
};

struct AccountView {
  std::string account;
  std::int64_t cash = 0;
  std::map<std::pair<std::string, std::string>, std::int64_t> positions;  // (exchange, symbol)
};

// One fault a drill injected, from its record, with the longest time the drill's watcher of the
// ledger saw no commit while it lasted (see commit_gaps).
struct FaultWindow {
  std::string fault;
  std::string target;
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
  std::int64_t longest_gap_ns = 0;
};

// The longest time without a commit overlapping each fault's window, given the times (Unix ns,
// ascending) at which commits were seen, and over the whole run (the second).
std::pair<std::vector<std::int64_t>, std::int64_t> commit_gaps(
    const std::vector<std::int64_t>& commit_times, const std::vector<FaultWindow>& faults);

// A commit the drill's watcher saw: when it committed (the leader's clock, CommittedEntry's
// committed_at_ns) and whether it carried trades.
struct SeenCommit {
  std::int64_t at_ns = 0;
  bool trades = false;
};

// How a fault was recovered from: the time from its start to the first commit of any entry (after
// a leader's kill, the new leader's first entry: the election plus one round) and to the first
// commit that carried trades (settlement going again); -1 when none came before the next fault
// began or the watching ended.
struct Recovery {
  std::int64_t first_commit_ns = -1;
  std::int64_t first_settled_ns = -1;
};
// `commits` ascending by time; `faults` ascending by start.
std::vector<Recovery> recoveries(const std::vector<SeenCommit>& commits,
                                 const std::vector<FaultWindow>& faults);

// p50, p99 and max of some durations (nearest rank), as "p50 1520 ms, p99 2700 ms, max 2710 ms".
std::string spread(std::vector<std::int64_t> ns);

struct VerifyInput {
  std::vector<ReplicaView> replicas;
  std::vector<LogEntry> log;      // in index order, from first_index
  std::uint64_t first_index = 1;  // > 1: the log was compacted before it
  std::vector<JournalView> journals;
  std::vector<AccountView> accounts;
  std::uint64_t indeterminate_orders = 0;
  std::vector<FaultWindow> faults;  // a drill's, with their commit gaps
  std::int64_t longest_gap_ns = 0;  // the drill's, over its whole run
};

struct Check {
  std::string name;
  bool ok = true;
  std::string summary;
  std::vector<std::string> offending;  // at most offending_max, then a count of the rest
};

struct Report {
  std::vector<Check> checks;
  std::uint64_t entries = 0;
  std::uint64_t batches = 0;
  std::uint64_t trades = 0;
  std::uint64_t duplicate_batches = 0;  // repeated in the log and skipped, as they must be
  std::uint64_t indeterminate_orders = 0;
  std::int64_t longest_gap_ns = 0;  // over the drill, when there was one
  std::vector<FaultWindow> faults;
  std::string note;  // what could not be checked, when something could not

  bool ok() const;
};

inline constexpr std::size_t offending_max = 20;

Report verify(const VerifyInput& input);

// One screen of text, and the same as JSON.
std::string format_report(const Report& report);
std::string report_json(const Report& report);

}  // namespace mkt::marketctl
