#include "verify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "mkt/runtime/logging.h"
#include "units.h"

namespace mkt::marketctl {

namespace {

// Adds offending items to a check, keeping the first offending_max.
class Offenses {
 public:
  explicit Offenses(Check& check) : check_(check) {}
  ~Offenses() {
    if (more_ > 0) check_.offending.push_back("... and " + std::to_string(more_) + " more");
  }
  Offenses(const Offenses&) = delete;
  Offenses& operator=(const Offenses&) = delete;

  void add(const std::string& item) {
    check_.ok = false;
    if (check_.offending.size() < offending_max) {
      check_.offending.push_back(item);
    } else {
      ++more_;
    }
  }

 private:
  Check& check_;
  std::size_t more_ = 0;
};

Check named(const char* name) {
  Check check;
  check.name = name;
  return check;
}

bool same_trade(const TradeRow& a, const TradeRow& b) {
  return a.id == b.id && a.symbol == b.symbol && a.price_ticks == b.price_ticks &&
         a.quantity_lots == b.quantity_lots && a.buyer == b.buyer && a.seller == b.seller;
}

bool same_trades(const std::vector<TradeRow>& a, const std::vector<TradeRow>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), same_trade);
}

std::string describe(const TradeRow& t) {
  return t.symbol + " " + std::to_string(t.quantity_lots) + " @ " + std::to_string(t.price_ticks) +
         " ticks, " + t.buyer + " bought from " + t.seller;
}

std::string hex(std::uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

// A batch the ledger applied: where, and what.
struct Applied {
  std::uint64_t index = 0;
  const std::vector<TradeRow>* trades = nullptr;
};

struct LedgerTrade {
  TradeRow row;
  std::uint64_t sequence = 0;
};

Check replicas_check(const VerifyInput& input) {
  Check check = named("replicas");
  Offenses offenses(check);
  const ReplicaView* first = nullptr;
  for (const auto& r : input.replicas) {
    if (!r.answered) {
      offenses.add(r.node + ": no answer");
    } else if (first == nullptr) {
      first = &r;
    }
  }
  if (first == nullptr) {
    check.ok = false;
    check.summary = "no validator answered";
    return check;
  }
  bool agree = true;
  for (const auto& r : input.replicas) {
    if (r.answered &&
        (r.applied_index != first->applied_index || r.ledger_hash != first->ledger_hash)) {
      agree = false;
    }
  }
  if (!agree) {
    for (const auto& r : input.replicas) {
      if (r.answered) {
        offenses.add(r.node + ": applied index " + std::to_string(r.applied_index) +
                     ", ledger hash " + hex(r.ledger_hash));
      }
    }
  }
  check.summary = check.ok
                      ? std::to_string(input.replicas.size()) + " validators at applied index " +
                            std::to_string(first->applied_index) + ", ledger hash " +
                            hex(first->ledger_hash)
                      : "the validators disagree";
  return check;
}

}  // namespace

std::pair<std::vector<std::int64_t>, std::int64_t> commit_gaps(
    const std::vector<std::int64_t>& times, const std::vector<FaultWindow>& faults) {
  std::int64_t overall = 0;
  for (std::size_t i = 1; i < times.size(); ++i)
    overall = std::max(overall, times[i] - times[i - 1]);
  std::vector<std::int64_t> gaps;
  for (const auto& fault : faults) {
    std::int64_t longest = 0;
    const auto after = std::upper_bound(times.begin(), times.end(), fault.start_ns);
    std::int64_t previous = after == times.begin() ? fault.start_ns : *(after - 1);
    for (auto it = after; it != times.end() && previous < fault.end_ns; ++it) {
      longest = std::max(longest, *it - previous);
      previous = *it;
    }
    if (previous < fault.end_ns) longest = std::max(longest, fault.end_ns - previous);
    gaps.push_back(longest);
  }
  return {gaps, overall};
}

std::vector<Recovery> recoveries(const std::vector<SeenCommit>& commits,
                                 const std::vector<FaultWindow>& faults) {
  std::vector<Recovery> out;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    const std::int64_t start = faults[i].start_ns;
    const std::int64_t until = i + 1 < faults.size() ? faults[i + 1].start_ns : INT64_MAX;
    Recovery recovery;
    auto it = std::ranges::upper_bound(commits, start, {}, &SeenCommit::at_ns);
    for (; it != commits.end() && it->at_ns < until; ++it) {
      if (recovery.first_commit_ns < 0) recovery.first_commit_ns = it->at_ns - start;
      if (it->trades) {
        recovery.first_settled_ns = it->at_ns - start;
        break;
      }
    }
    out.push_back(recovery);
  }
  return out;
}

std::string spread(std::vector<std::int64_t> ns) {
  if (ns.empty()) return "none";
  std::ranges::sort(ns);
  const auto rank = [&](double q) {
    const auto at = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ns.size())));
    return ns[std::min(ns.size(), std::max<std::size_t>(at, 1)) - 1];
  };
  const auto ms = [](std::int64_t v) { return std::to_string(v / 1'000'000) + " ms"; };
  return "p50 " + ms(rank(0.5)) + ", p99 " + ms(rank(0.99)) + ", max " + ms(ns.back());
}

bool Report::ok() const {
  return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
}

Report verify(const VerifyInput& input) {
  Report report;
  report.indeterminate_orders = input.indeterminate_orders;
  report.entries = input.log.size();
  const bool compacted = input.first_index > 1;
  report.checks.push_back(replicas_check(input));

  // Batches, applied by the ledger's rule: per exchange, n + 1 after n; a repeat is skipped.
  Check batches = named("batches");
  std::map<std::string, std::uint64_t> last;           // per exchange, the last applied
  std::map<std::string, std::uint64_t> first_applied;  // per exchange (1 unless compacted)
  std::map<std::pair<std::string, std::uint64_t>, Applied> applied;
  std::map<std::pair<std::string, std::uint64_t>, LedgerTrade> ledger_trades;
  Check trades = named("trades");
  {
    Offenses batch_offenses(batches);
    Offenses trade_offenses(trades);
    for (const auto& entry : input.log) {
      if (entry.exchange.empty()) continue;
      auto [it, fresh] = last.try_emplace(entry.exchange, 0);
      auto& previous = it->second;
      // After compaction the first batch seen of an exchange is where its visible history starts.
      if (fresh && compacted) previous = entry.sequence - 1;
      const auto key = std::pair{entry.exchange, entry.sequence};
      if (entry.sequence == previous + 1) {
        previous = entry.sequence;
        first_applied.try_emplace(entry.exchange, entry.sequence);
        applied[key] = {entry.index, &entry.trades};
        ++report.batches;
        for (const auto& t : entry.trades) {
          auto [trade, inserted] =
              ledger_trades.try_emplace({entry.exchange, t.id}, LedgerTrade{t, entry.sequence});
          if (!inserted) {
            trade_offenses.add(entry.exchange + " trade " + std::to_string(t.id) +
                               " applied twice (batches " + std::to_string(trade->second.sequence) +
                               " and " + std::to_string(entry.sequence) + ")");
          }
          ++report.trades;
        }
      } else if (entry.sequence <= previous) {
        ++report.duplicate_batches;
        const auto before = applied.find(key);
        if (before != applied.end() && !same_trades(*before->second.trades, entry.trades)) {
          batch_offenses.add(entry.exchange + " batch " + std::to_string(entry.sequence) +
                             " at index " + std::to_string(entry.index) +
                             " differs from the one applied at index " +
                             std::to_string(before->second.index));
        }
      } else {
        batch_offenses.add(entry.exchange + " batch " + std::to_string(entry.sequence) +
                           " at index " + std::to_string(entry.index) + " skips ahead of batch " +
                           std::to_string(previous));
      }
    }
    for (const auto& journal : input.journals) {
      const auto it = last.find(journal.exchange);
      const std::uint64_t applied_up_to = it == last.end() ? 0 : it->second;
      if (journal.acknowledged > applied_up_to && !(compacted && it == last.end())) {
        batch_offenses.add(journal.exchange + ": its journal records batch " +
                           std::to_string(journal.acknowledged) +
                           " acknowledged, the ledger applied up to " +
                           std::to_string(applied_up_to) + " (acknowledged data lost)");
      }
    }

    // Trades: the journal's, each in the ledger once and the same; none the journal lacks.
    std::set<std::pair<std::string, std::uint64_t>> journalled;
    for (const auto& journal : input.journals) {
      // After compaction, the ledger's visible trades of this exchange start at its first
      // visible batch; older journal trades are in the snapshot only and are not compared.
      std::uint64_t visible_from = 0;
      if (compacted) {
        visible_from = UINT64_MAX;
        for (auto it = ledger_trades.lower_bound({journal.exchange, 0});
             it != ledger_trades.end() && it->first.first == journal.exchange; ++it) {
          visible_from = std::min(visible_from, it->first.second);
        }
      }
      for (const auto& t : journal.trades) {
        journalled.insert({journal.exchange, t.id});
        if (t.id < visible_from) continue;
        const auto found = ledger_trades.find({journal.exchange, t.id});
        if (found == ledger_trades.end()) {
          trade_offenses.add(journal.exchange + " trade " + std::to_string(t.id) + " (" +
                             describe(t) + ") is not in the ledger");
        } else if (!same_trade(found->second.row, t)) {
          trade_offenses.add(journal.exchange + " trade " + std::to_string(t.id) +
                             " differs: journal " + describe(t) + "; ledger " +
                             describe(found->second.row));
        }
      }
      if (journal.unsettled > 0) {
        trade_offenses.add(journal.exchange + ": " + std::to_string(journal.unsettled) +
                           " trades still unsettled after the recovery window");
      }
    }
    for (const auto& [key, trade] : ledger_trades) {
      const bool known = std::any_of(input.journals.begin(), input.journals.end(),
                                     [&](const JournalView& j) { return j.exchange == key.first; });
      if (known && !journalled.contains(key)) {
        trade_offenses.add(key.first + " trade " + std::to_string(key.second) + " (" +
                           describe(trade.row) + ") is in the ledger but not in the journal");
      }
    }
  }
  {
    std::string ranges;
    for (const auto& [exchange, up_to] : last) {
      ranges += (ranges.empty() ? "" : ", ") + exchange + " " +
                std::to_string(first_applied.count(exchange) ? first_applied[exchange] : 1) + ".." +
                std::to_string(up_to);
    }
    batches.summary = std::to_string(report.batches) + " batches applied (" +
                      (ranges.empty() ? "none" : ranges) + "), " +
                      std::to_string(report.duplicate_batches) + " repeats skipped";
    std::size_t journal_trades = 0;
    for (const auto& j : input.journals) journal_trades += j.trades.size();
    trades.summary = std::to_string(journal_trades) + " journalled trades of " +
                     std::to_string(input.journals.size()) + " exchanges against " +
                     std::to_string(ledger_trades.size()) + " in the ledger";
  }
  report.checks.push_back(std::move(batches));
  report.checks.push_back(std::move(trades));

  // Conservation: net cash sums to zero, positions per (exchange, symbol) too, and each account
  // is what its trades make it.
  Check conservation = named("conservation");
  {
    Offenses offenses(conservation);
    std::int64_t cash = 0;
    std::map<std::pair<std::string, std::string>, std::int64_t> positions;
    for (const auto& account : input.accounts) {
      cash += account.cash;
      for (const auto& [key, quantity] : account.positions) positions[key] += quantity;
    }
    if (cash != 0)
      offenses.add("cash sums to " + std::to_string(cash) + " over every account, not 0");
    for (const auto& [key, quantity] : positions) {
      if (quantity != 0) {
        offenses.add(key.first + " " + key.second + ": positions sum to " +
                     std::to_string(quantity) + " lots, not 0");
      }
    }
    if (!compacted) {
      std::map<std::string, AccountView> expected;
      for (const auto& [key, trade] : ledger_trades) {
        const auto& t = trade.row;
        auto& buyer = expected[t.buyer];
        auto& seller = expected[t.seller];
        buyer.cash -= t.notional;
        seller.cash += t.notional;
        buyer.positions[{key.first, t.symbol}] += t.quantity_lots;
        seller.positions[{key.first, t.symbol}] -= t.quantity_lots;
      }
      for (auto& [id, want] : expected) {
        std::erase_if(want.positions, [](const auto& p) { return p.second == 0; });
        const auto have = std::find_if(input.accounts.begin(), input.accounts.end(),
                                       [&](const AccountView& a) { return a.account == id; });
        if (have == input.accounts.end()) {
          offenses.add(id + " traded but its account was not read");
          continue;
        }
        auto have_positions = have->positions;
        std::erase_if(have_positions, [](const auto& p) { return p.second == 0; });
        if (have->cash != want.cash || have_positions != want.positions) {
          offenses.add(id + ": the ledger holds cash " + std::to_string(have->cash) +
                       ", its applied trades make " + std::to_string(want.cash) +
                       (have_positions != want.positions ? " (positions differ too)" : ""));
        }
      }
    }
    conservation.summary = std::to_string(input.accounts.size()) + " accounts: cash sums to " +
                           std::to_string(cash) + ", positions of " +
                           std::to_string(positions.size()) + " (exchange, symbol) pairs to 0";
  }
  report.checks.push_back(std::move(conservation));

  report.faults = input.faults;
  report.longest_gap_ns = input.longest_gap_ns;
  if (compacted) {
    report.note = "the log was compacted before index " + std::to_string(input.first_index) +
                  ": batches, trades and accounts are checked against what follows it";
  }
  return report;
}

std::string format_report(const Report& report) {
  std::string out;
  std::size_t failed = 0;
  for (const auto& c : report.checks) failed += c.ok ? 0 : 1;
  out += failed == 0 ? "verify: OK\n"
                     : "verify: FAILED (" + std::to_string(failed) + " of " +
                           std::to_string(report.checks.size()) + " checks)\n";
  for (const auto& c : report.checks) {
    char line[64];
    std::snprintf(line, sizeof line, "  %-13s %-5s ", c.name.c_str(), c.ok ? "ok" : "FAIL");
    out += line + c.summary + "\n";
    for (const auto& item : c.offending) out += "      " + item + "\n";
  }
  out += "log: " + std::to_string(report.entries) + " entries, " + std::to_string(report.batches) +
         " batches, " + std::to_string(report.trades) + " trades\n";
  out += "indeterminate orders (sent, never answered): " +
         std::to_string(report.indeterminate_orders) + "\n";
  if (!report.faults.empty()) {
    out += "the drill: " + std::to_string(report.faults.size()) +
           " faults; longest time without a commit " + format_seconds(report.longest_gap_ns) +
           "; while each fault lasted:\n";
    for (const auto& f : report.faults) {
      char line[160];
      std::snprintf(line, sizeof line, "  %-26s %-12s %8s long, %8s without a commit\n",
                    f.fault.c_str(), f.target.c_str(),
                    format_seconds(f.end_ns - f.start_ns).c_str(),
                    format_seconds(f.longest_gap_ns).c_str());
      out += line;
    }
  }
  if (!report.note.empty()) out += "note: " + report.note + "\n";
  return out;
}

namespace {

std::string json_string(const std::string& text) {
  return "\"" + runtime::json_escape(text) + "\"";
}

}  // namespace

std::string report_json(const Report& report) {
  std::string out =
      "{\n  \"ok\": " + std::string(report.ok() ? "true" : "false") + ",\n  \"checks\": [";
  for (std::size_t i = 0; i < report.checks.size(); ++i) {
    const auto& c = report.checks[i];
    out += std::string(i ? "," : "") + "\n    {\"name\": " + json_string(c.name) +
           ", \"ok\": " + (c.ok ? "true" : "false") + ", \"summary\": " + json_string(c.summary) +
           ", \"offending\": [";
    for (std::size_t j = 0; j < c.offending.size(); ++j) {
      out += (j ? ", " : "") + json_string(c.offending[j]);
    }
    out += "]}";
  }
  out += "\n  ],\n  \"entries\": " + std::to_string(report.entries) +
         ",\n  \"batches\": " + std::to_string(report.batches) +
         ",\n  \"trades\": " + std::to_string(report.trades) +
         ",\n  \"duplicate_batches\": " + std::to_string(report.duplicate_batches) +
         ",\n  \"indeterminate_orders\": " + std::to_string(report.indeterminate_orders) +
         ",\n  \"longest_gap_ns\": " + std::to_string(report.longest_gap_ns) + ",\n  \"faults\": [";
  for (std::size_t i = 0; i < report.faults.size(); ++i) {
    const auto& f = report.faults[i];
    out += std::string(i ? "," : "") + "\n    {\"fault\": " + json_string(f.fault) +
           ", \"target\": " + json_string(f.target) +
           ", \"start_ns\": " + std::to_string(f.start_ns) +
           ", \"end_ns\": " + std::to_string(f.end_ns) +
           ", \"longest_gap_ns\": " + std::to_string(f.longest_gap_ns) + "}";
  }
  out += "\n  ],\n  \"note\": " + json_string(report.note) + "\n}\n";
  return out;
}

}  // namespace mkt::marketctl
