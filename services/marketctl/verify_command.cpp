// marketctl verify: freezes the workload, waits for the market to settle, gathers what every part
// says and runs the checker (verify.h) on it.
#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <sstream>
#include <thread>

#include "cli.h"
#include "client.h"
#include "cluster.h"
#include "docker.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/http_client.h"
#include "plan.h"
#include "run_setup.h"
#include "units.h"
#include "verify.h"

namespace mkt::marketctl {

namespace {

namespace po = boost::program_options;
namespace lpb = market::ledger::v1;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Pauses every running agent while it lives, so that the market stops moving: no new orders, so
// no new trades, and the ledger catches up. Thaws them again however verify ends.
class Freeze {
 public:
  Freeze(const Market& market, bool enabled) : market_(market) {
    if (!enabled) return;
    for (const auto* agent : market.nodes_of("agent", true)) {
      if (freeze_node(market, agent->id, true)) frozen_.push_back(agent->id);
    }
  }
  ~Freeze() {
    for (const auto& agent : frozen_) freeze_node(market_, agent, false);
  }
  Freeze(const Freeze&) = delete;
  Freeze& operator=(const Freeze&) = delete;

 private:
  const Market& market_;
  std::vector<std::string> frozen_;
};

struct Look {
  std::vector<ValidatorAnswer> validators;
  std::map<std::string, std::uint64_t> unsettled;  // per exchange

  // Every validator answered, each has applied all it knows committed, all at one index, and no
  // exchange has trades waiting for the ledger.
  bool settled() const {
    if (validators.empty() || !validators.front().status) return false;
    const auto applied = validators.front().status->applied_index();
    for (const auto& v : validators) {
      if (!v.status || v.status->applied_index() != applied ||
          v.status->commit_index() != applied) {
        return false;
      }
    }
    for (const auto& [exchange, count] : unsettled) {
      if (count != 0) return false;
    }
    return true;
  }
  // The answer that has applied the most: where to read the log and the accounts from.
  const ValidatorAnswer* furthest() const {
    const ValidatorAnswer* best = nullptr;
    for (const auto& v : validators) {
      if (v.status && (!best || v.status->applied_index() > best->status->applied_index())) {
        best = &v;
      }
    }
    return best;
  }
  std::vector<ReplicaView> replicas() const {
    std::vector<ReplicaView> out;
    for (const auto& v : validators) {
      out.push_back({.node = v.node->id,
                     .answered = v.status.has_value(),
                     .applied_index = v.status ? v.status->applied_index() : 0,
                     .ledger_hash = v.status ? v.status->ledger_hash() : 0});
    }
    return out;
  }
};

Look look(const Market& market) {
  Look result;
  result.validators = ask_validators(market, 2s);
  for (const auto* node : market.nodes_of("exchange")) {
    auto text = runtime::http_get("127.0.0.1", node->port("metrics"), "/metrics", 2s);
    result.unsettled[node->id] =
        text ? static_cast<std::uint64_t>(metric_sum(*text, "exchange_settlement_unsettled_trades"))
             : 1;  // no answer: not known to be settled
  }
  return result;
}

TradeRow row_of(const lpb::TradeReport& t) {
  return {.id = t.trade_id(),
          .symbol = t.symbol(),
          .price_ticks = t.price_ticks(),
          .quantity_lots = t.quantity_lots(),
          .buyer = t.buyer_account(),
          .seller = t.seller_account(),
          .notional = t.notional()};
}

// The committed log from `from` up to `until`, from one validator.
std::expected<std::vector<LogEntry>, std::string> read_log(const Market& market,
                                                           const runtime::NodeRecord& source,
                                                           std::uint64_t from,
                                                           std::uint64_t until) {
  std::vector<LogEntry> log;
  if (until < from) return log;
  auto stub = lpb::Ledger::NewStub(market.channel(source));
  grpc::ClientContext context;
  context.set_deadline(deadline_in(120s));
  lpb::StreamCommittedRequest request;
  request.set_from_index(from);
  auto reader = stub->StreamCommitted(&context, request);
  lpb::CommittedEntry entry;
  while (reader->Read(&entry)) {
    LogEntry e;
    e.index = entry.index();
    if (entry.has_batch()) {
      e.exchange = entry.batch().exchange_id();
      e.sequence = entry.batch().sequence();
      for (const auto& t : entry.batch().trades()) e.trades.push_back(row_of(t));
    }
    log.push_back(std::move(e));
    if (entry.index() >= until) {
      context.TryCancel();
      break;
    }
  }
  const auto status = reader->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return std::unexpected("reading the log from " + source.id + ": " + rpc_error(status));
  }
  if (log.empty() || log.back().index < until) {
    return std::unexpected("the log from " + source.id + " ended before index " +
                           std::to_string(until));
  }
  return log;
}

// An exchange's journal, replayed read-only by exchanged itself (in its container, for compose).
std::expected<JournalView, std::string> read_journal(const Market& market,
                                                     const runtime::NodeRecord& exchange,
                                                     const std::string& exchanged) {
  // The exchange's own command line (its scenario, journal and accounts, as a process or in its
  // container), which --print-trades turns into a read-only replay that ends before serving.
  LaunchOptions launch;
  launch.run = market.run;
  launch.binaries.exchanged = exchanged;
  launch.container = !market.compose.empty();
  auto command =
      command_line(market.scenario, *market.scenario.find_node(exchange.id), launch, {}, {}, "");
  // Not the running exchange's ports file, whatever the replay does.
  std::erase_if(command, [](const std::string& arg) { return arg.starts_with("--ports-file="); });
  command.push_back("--print-trades");
  if (!market.compose.empty()) {
    command.insert(command.begin(), {"exec", market.containers.at(exchange.id)});
  }
  auto text = market.compose.empty() ? run_captured(command) : docker(command);
  if (!text) return std::unexpected(exchange.id + "'s journal: " + text.error());
  JournalView view;
  view.exchange = exchange.id;
  std::istringstream lines(*text);
  bool ended = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "trade") {
      TradeRow t;
      std::uint64_t buy_order = 0, sell_order = 0;
      words >> t.id >> t.symbol >> t.price_ticks >> t.quantity_lots >> t.buyer >> t.seller >>
          buy_order >> sell_order;
      if (!words) return std::unexpected(exchange.id + "'s journal: cannot read '" + line + "'");
      view.trades.push_back(std::move(t));
    } else if (kind == "end") {
      ended = true;
      for (std::string field; words >> field;) {
        if (field.starts_with("acknowledged=")) view.acknowledged = std::stoull(field.substr(13));
      }
    }
  }
  if (!ended) return std::unexpected(exchange.id + "'s journal: the dump ended early");
  return view;
}

std::expected<AccountView, std::string> read_account(const Market& market,
                                                     const runtime::NodeRecord& source,
                                                     const std::string& id) {
  auto stub = lpb::Ledger::NewStub(market.channel(source));
  grpc::ClientContext context;
  context.set_deadline(deadline_in(5s));
  lpb::GetLedgerAccountRequest request;
  request.set_account_id(id);
  lpb::LedgerAccount account;
  const auto status = stub->GetAccount(&context, request, &account);
  AccountView view;
  view.account = id;
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return view;
  if (!status.ok()) return std::unexpected("account " + id + ": " + rpc_error(status));
  view.cash = account.cash();
  for (const auto& p : account.positions()) {
    view.positions[{p.exchange_id(), p.symbol()}] += p.quantity_lots();
  }
  return view;
}

// The faults of a drill's record (marketctl drill), and its longest commit gap.
std::expected<std::pair<std::vector<FaultWindow>, std::int64_t>, std::string> read_faults(
    const std::string& path) {
  std::vector<FaultWindow> faults;
  std::int64_t longest = 0;
  try {
    const auto record = YAML::LoadFile(path);
    for (const auto& f : record["faults"]) {
      faults.push_back({.fault = f["fault"].as<std::string>(),
                        .target = f["target"].as<std::string>(),
                        .start_ns = f["start_ns"].as<std::int64_t>(),
                        .end_ns = f["end_ns"].as<std::int64_t>(),
                        .longest_gap_ns = f["longest_gap_ns"].as<std::int64_t>(0)});
    }
    longest = record["longest_gap_ns"].as<std::int64_t>(0);
  } catch (const YAML::Exception& e) {
    return std::unexpected(path + ": not a drill record: " + e.what());
  }
  return std::pair{faults, longest};
}

}  // namespace

int verify_command(int argc, char** argv) {
  po::options_description options("verify options");
  // clang-format off
  options.add_options()
      ("recovery", po::value<std::string>()->default_value("60s"),
       "how long the market may take to settle once the agents are frozen")
      ("drill", po::value<std::string>(), "a drill's record: the longest commit gap of each fault")
      ("json", po::value<std::string>(), "write the report as JSON here too")
      ("no-freeze", "leave the agents running (the checks may then see trades in flight)")
      ("bin-dir", po::value<std::string>()->default_value(""),
       "folder of exchanged, for local processes (default: beside marketctl)");
  // clang-format on
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl verify [--run DIR | --compose P] [--drill RECORD] [--json FILE]\n\n"
      "Checks that the market lost nothing: the validators agree, every exchange's batches\n"
      "and trades are in the ledger exactly once and as journalled, cash and positions are\n"
      "conserved. Freezes the agents while it looks (pause), and thaws them after. Exits 1\n"
      "when a check fails, naming what is wrong.\n",
      options, {});
  if (!vm) return vm.error();
  const auto& flags = *vm;
  const auto recovery = parse_duration_us(flags["recovery"].as<std::string>());
  if (!recovery) return fail("verify", "--recovery: " + recovery.error(), 2);
  VerifyInput input;
  if (flags.count("drill")) {
    auto read = read_faults(flags["drill"].as<std::string>());
    if (!read) return fail("verify", read.error(), 2);
    input.faults = std::move(read->first);
    input.longest_gap_ns = read->second;
  }
  auto market = open_market(flags);
  if (!market) return fail("verify", market.error());
  std::string exchanged = "exchanged";  // on the image's PATH, in a container
  if (market->compose.empty()) {
    auto binaries = find_binaries(flags["bin-dir"].as<std::string>());
    if (!binaries) return fail("verify", binaries.error());
    exchanged = binaries->exchanged;
  }
  if (look(*market).furthest() == nullptr) {
    return fail("verify", "no validator of the market answers: is it up? (`marketctl status`)");
  }

  std::string gather_error;
  bool settled = false;
  {
    const Freeze freeze(*market, flags.count("no-freeze") == 0);
    // Settled: every validator has applied everything committed, at one index, two looks in a
    // row, and no exchange has trades waiting for the ledger.
    const auto deadline = Clock::now() + std::chrono::microseconds(*recovery);
    Look last = look(*market);
    for (;;) {
      std::this_thread::sleep_for(300ms);
      Look next = look(*market);
      settled =
          next.settled() && last.settled() &&
          next.furthest()->status->applied_index() == last.furthest()->status->applied_index();
      last = std::move(next);
      if (settled || Clock::now() > deadline) break;
    }
    input.replicas = last.replicas();
    const auto* furthest = last.furthest();
    if (furthest == nullptr) {
      gather_error = "no validator answered after the recovery window";
    } else {
      const auto& source = furthest->node;
      const auto& status = *furthest->status;
      input.first_index = std::max<std::uint64_t>(1, status.first_index());
      auto log = read_log(*market, *source, input.first_index, status.applied_index());
      if (!log) gather_error = log.error();
      if (log) input.log = std::move(*log);
      for (const auto* exchange : market->nodes_of("exchange")) {
        auto journal = read_journal(*market, *exchange, exchanged);
        if (!journal) {
          gather_error = journal.error();
          break;
        }
        journal->unsettled = last.unsettled[exchange->id];
        input.journals.push_back(std::move(*journal));
      }
      std::vector<std::string> accounts;
      for (const auto* node : market->scenario.nodes_with_role(scenario::Role::agent)) {
        accounts.push_back(node->id);
      }
      accounts.push_back(runtime::operator_account);
      for (const auto& id : accounts) {
        auto account = read_account(*market, *source, id);
        if (!account) {
          gather_error = account.error();
          break;
        }
        input.accounts.push_back(std::move(*account));
      }
    }
  }
  if (!gather_error.empty()) return fail("verify", gather_error);
  // The agents thawed: what they counted as indeterminate.
  for (const auto* agent : market->nodes_of("agent", true)) {
    if (auto text = runtime::http_get("127.0.0.1", agent->port("metrics"), "/metrics", 5s)) {
      input.indeterminate_orders +=
          static_cast<std::uint64_t>(metric_sum(*text, "agent_orders_indeterminate_total"));
    }
  }
  const auto report = verify(input);
  std::cout << format_report(report);
  if (!settled) {
    std::cout << "the market did not settle within --recovery "
              << flags["recovery"].as<std::string>() << "\n";
  }
  if (flags.count("json")) {
    if (auto ok =
            runtime::write_file_atomically(flags["json"].as<std::string>(), report_json(report));
        !ok) {
      return fail("verify", ok.error());
    }
  }
  return report.ok() ? 0 : 1;
}

}  // namespace mkt::marketctl
