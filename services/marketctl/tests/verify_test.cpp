// The checker: a consistent market passes, and each kind of loss or duplication fails the check
// it belongs to, naming the offending item. Inputs are built by hand.
#include "verify.h"

#include <catch2/catch_test_macros.hpp>

using namespace mkt::marketctl;

namespace {

TradeRow trade(std::uint64_t id, std::int64_t quantity, const std::string& buyer,
               const std::string& seller) {
  return {.id = id,
          .symbol = "ACME",
          .price_ticks = 10'000,
          .quantity_lots = quantity,
          .buyer = buyer,
          .seller = seller,
          .notional = 10'000 * quantity};
}

LogEntry batch(std::uint64_t index, const std::string& exchange, std::uint64_t sequence,
               std::vector<TradeRow> trades) {
  LogEntry e;
  e.index = index;
  e.exchange = exchange;
  e.sequence = sequence;
  e.trades = std::move(trades);
  return e;
}

// Two batches of ex-a (a leader no-op between), three trades, as both sides saw them.
VerifyInput consistent() {
  VerifyInput in;
  in.replicas = {{"val-0", true, 4, 77}, {"val-1", true, 4, 77}, {"val-2", true, 4, 77}};
  in.log = {batch(1, "ex-a", 1, {trade(1, 5, "alice", "bob"), trade(2, 3, "bob", "carol")}),
            LogEntry{.index = 2, .exchange = "", .sequence = 0, .trades = {}},
            batch(3, "ex-a", 2, {trade(3, 1, "carol", "alice")}),
            // A retry after a lost answer: the same batch again, skipped.
            batch(4, "ex-a", 2, {trade(3, 1, "carol", "alice")})};
  JournalView journal;
  journal.exchange = "ex-a";
  journal.trades = {trade(1, 5, "alice", "bob"), trade(2, 3, "bob", "carol"),
                    trade(3, 1, "carol", "alice")};
  for (auto& t : journal.trades) t.notional = 0;  // the journal's rows carry no notional
  journal.acknowledged = 2;
  in.journals = {journal};
  const auto account = [](const std::string& id, std::int64_t cash, std::int64_t position) {
    AccountView a;
    a.account = id;
    a.cash = cash;
    if (position != 0) a.positions[{"ex-a", "ACME"}] = position;
    return a;
  };
  in.accounts = {account("alice", -50'000 + 10'000, 5 - 1), account("bob", 50'000 - 30'000, -5 + 3),
                 account("carol", 30'000 - 10'000, -3 + 1), account("operator", 0, 0)};
  return in;
}

const Check& check(const Report& report, const std::string& name) {
  for (const auto& c : report.checks) {
    if (c.name == name) return c;
  }
  FAIL("no check " << name);
  return report.checks.front();
}

bool names(const Check& c, const std::string& text) {
  for (const auto& item : c.offending) {
    if (item.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("verify: a market that lost nothing passes, a retried batch counted as skipped") {
  const auto report = verify(consistent());
  for (const auto& c : report.checks) {
    INFO(c.name << ": " << c.summary);
    for (const auto& item : c.offending) INFO(item);
    CHECK(c.ok);
  }
  CHECK(report.ok());
  CHECK(report.batches == 2);
  CHECK(report.duplicate_batches == 1);
  CHECK(report.trades == 3);
  CHECK(format_report(report).starts_with("verify: OK\n"));
  CHECK(report_json(report).find("\"ok\": true") != std::string::npos);
}

TEST_CASE("verify: replicas that disagree fail, listing each") {
  auto in = consistent();
  in.replicas[2].ledger_hash = 78;
  auto report = verify(in);
  CHECK(!check(report, "replicas").ok);
  CHECK(names(check(report, "replicas"), "val-2: applied index 4"));
  in = consistent();
  in.replicas[1].answered = false;
  CHECK(names(check(verify(in), "replicas"), "val-1: no answer"));
}

TEST_CASE("verify: a journalled trade missing from the ledger, or different there, fails") {
  auto in = consistent();
  in.journals[0].trades.push_back(trade(4, 2, "alice", "bob"));
  auto report = verify(in);
  CHECK(!report.ok());
  CHECK(names(check(report, "trades"),
              "ex-a trade 4 (ACME 2 @ 10000 ticks, alice bought from "
              "bob) is not in the ledger"));
  in = consistent();
  in.journals[0].trades[1].price_ticks = 10'001;
  CHECK(names(check(verify(in), "trades"), "ex-a trade 2 differs"));
  in = consistent();
  in.journals[0].unsettled = 3;
  CHECK(names(check(verify(in), "trades"), "3 trades still unsettled"));
}

TEST_CASE("verify: a trade the journal never made, or one applied twice, fails") {
  auto in = consistent();
  in.journals[0].trades.pop_back();
  CHECK(names(check(verify(in), "trades"),
              "ex-a trade 3 (ACME 1 @ 10000 ticks, carol bought from "
              "alice) is in the ledger but not in the journal"));
  in = consistent();
  in.log.push_back(batch(5, "ex-a", 3, {trade(3, 1, "carol", "alice")}));
  in.journals[0].acknowledged = 3;
  CHECK(names(check(verify(in), "trades"), "ex-a trade 3 applied twice (batches 2 and 3)"));
}

TEST_CASE("verify: a batch that skips ahead, a repeat that differs, a lost acknowledged batch") {
  auto in = consistent();
  in.log.push_back(batch(5, "ex-a", 4, {}));
  CHECK(names(check(verify(in), "batches"), "ex-a batch 4 at index 5 skips ahead of batch 2"));
  in = consistent();
  in.log[3].trades[0].quantity_lots = 2;
  CHECK(names(check(verify(in), "batches"),
              "ex-a batch 2 at index 4 differs from the one applied at index 3"));
  in = consistent();
  in.journals[0].acknowledged = 3;
  CHECK(names(check(verify(in), "batches"),
              "ex-a: its journal records batch 3 acknowledged, the ledger applied up to 2"));
}

TEST_CASE("verify: cash and positions must sum to zero and match the applied trades") {
  auto in = consistent();
  in.accounts[0].cash += 1;
  auto report = verify(in);
  CHECK(names(check(report, "conservation"), "cash sums to 1 over every account, not 0"));
  CHECK(names(check(report, "conservation"), "alice: the ledger holds cash -39999"));
  in = consistent();
  in.accounts[1].positions[{"ex-a", "ACME"}] += 1;
  CHECK(names(check(verify(in), "conservation"), "ex-a ACME: positions sum to 1 lots, not 0"));
  in = consistent();
  in.accounts.erase(in.accounts.begin());
  CHECK(names(check(verify(in), "conservation"), "alice traded but its account was not read"));
}

TEST_CASE("verify: after compaction only what follows the first kept index is compared") {
  auto in = consistent();
  in.first_index = 3;
  in.log.erase(in.log.begin(), in.log.begin() + 2);  // batch 1 is in the snapshot only
  const auto report = verify(in);
  CHECK(check(report, "trades").ok);
  CHECK(check(report, "batches").ok);
  CHECK(report.note.find("compacted before index 3") != std::string::npos);
}

TEST_CASE("verify: the longest time without a commit while each fault lasted") {
  const std::vector<std::int64_t> times{100, 200, 900, 1000, 1100, 2500};
  const std::vector<FaultWindow> faults{
      {.fault = "kill", .target = "val-0", .start_ns = 150, .end_ns = 950, .longest_gap_ns = 0},
      {.fault = "pause", .target = "val-1", .start_ns = 1050, .end_ns = 1200, .longest_gap_ns = 0},
      {.fault = "ring", .target = "x", .start_ns = 3000, .end_ns = 4000, .longest_gap_ns = 0}};
  const auto [gaps, overall] = commit_gaps(times, faults);
  CHECK(overall == 1400);
  CHECK(gaps == std::vector<std::int64_t>{700, 1400, 1500});
}

TEST_CASE("verify: how each fault was recovered from: the first commit, the first with trades") {
  const std::vector<SeenCommit> commits{{100, true},  {900, false}, {1000, false},
                                        {1300, true}, {2100, true}, {5000, false}};
  const std::vector<FaultWindow> faults{
      {.fault = "kill", .target = "val-0", .start_ns = 150, .end_ns = 950, .longest_gap_ns = 0},
      {.fault = "kill", .target = "val-1", .start_ns = 2000, .end_ns = 2050, .longest_gap_ns = 0},
      {.fault = "kill", .target = "val-2", .start_ns = 4000, .end_ns = 4500, .longest_gap_ns = 0}};
  const auto r = recoveries(commits, faults);
  REQUIRE(r.size() == 3);
  CHECK(r[0].first_commit_ns == 750);    // the new leader's no-op at 900
  CHECK(r[0].first_settled_ns == 1150);  // trades again at 1300
  CHECK(r[1].first_commit_ns == 100);
  CHECK(r[1].first_settled_ns == 100);
  CHECK(r[2].first_commit_ns == 1000);
  CHECK(r[2].first_settled_ns == -1);  // none came
  CHECK(spread({}) == "none");
  CHECK(spread({3'000'000, 1'000'000, 2'000'000}) == "p50 2 ms, p99 3 ms, max 3 ms");
}
