// The ledger's apply cost per trade and the cost of reading its hash, on exchange-like batches:
// 200 batches of 4096 trades over 100 accounts, 4 symbols and 3 exchanges, 100,000 trades kept
// (validatord's default). Three repetitions; reports figures, never fails.
// Usage: mkt_ledger_bench
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "mkt/ledger/ledger.h"

namespace {

using mkt::ledger::Batch;
using mkt::ledger::Ledger;
using mkt::ledger::Trade;
using Clock = std::chrono::steady_clock;

std::vector<Batch> make_batches() {
  std::vector<Batch> batches;
  std::uint64_t id = 0;
  for (int b = 0; b < 200; ++b) {
    Batch batch{"ex-" + std::to_string(b % 3), static_cast<std::uint64_t>(b / 3 + 1), {}};
    for (int i = 0; i < 4096; ++i) {
      Trade t;
      t.trade_id = ++id;
      t.symbol = "SYM" + std::to_string(i % 4);
      t.price_ticks = 10'000 + i % 50;
      t.quantity_lots = 1 + i % 9;
      t.notional = t.price_ticks * t.quantity_lots;
      t.buyer = "agent-" + std::to_string(i % 100);
      t.seller = "agent-" + std::to_string((i * 7 + 3) % 100);
      t.buy_order_id = id * 2;
      t.sell_order_id = id * 2 + 1;
      t.aggressor = mkt::ledger::Side::buy;
      t.executed_at_ns = 1'700'000'000'000'000'000 + i;
      batch.trades.push_back(t);
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace

int main() {
  const auto batches = make_batches();
  const double trades = 200 * 4096.0;
  for (int rep = 0; rep < 3; ++rep) {
    Ledger ledger(100'000);
    const auto t0 = Clock::now();
    std::uint64_t index = 0;
    for (const auto& batch : batches) ledger.apply(++index, batch);
    const double apply_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto t1 = Clock::now();
    volatile std::uint64_t hash = ledger.hash();
    (void)hash;
    const double hash_s = std::chrono::duration<double>(Clock::now() - t1).count();
    std::printf("apply %.0f ns/trade (%.2fM trades/s); hash() %.1f us with %zu trades kept\n",
                apply_s * 1e9 / trades, trades / apply_s / 1e6, hash_s * 1e6, ledger.trades_kept());
  }
  return 0;
}
