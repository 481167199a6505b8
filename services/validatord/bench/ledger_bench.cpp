// The ledger over real validatord processes on loopback, with fsync (the default): committed
// trades per second with 3 and 5 validators, commit latency at a moderate load, and failover time
// from kill -9 of the leader to the first commit in the next term. The 3-validator throughput and
// latency also run with mutual TLS between everyone, beside the same shape without. Reports
// figures; never fails on timing.
//
// Usage: validatord_bench [seconds per throughput run, default 5] [--also PATH]: with --also,
// every figure is measured for this build's validatord and then for the binary at PATH, side by
// side in one run (an A/B on this noisy machine).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "processes.h"

using namespace mkt::validatord::test;

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Several exchanges, each submitting full batches back to back (one in flight per exchange, as
// exchanged does).
std::string label_of(const std::string& binary) {
  return binary == VALIDATORD_BINARY ? "this build" : binary;
}

void throughput(const std::string& binary, std::size_t validators, std::size_t exchanges,
                std::size_t batch_trades, double seconds, const std::string& sync,
                bool tls = false) {
  Cluster cluster({.validators = validators, .wal_sync = sync, .binary = binary, .tls = tls});
  cluster.wait_for_leader();
  std::vector<lpb::TradeBatch> prepared;  // built before timing, so the client's CPU is spent once
  std::atomic<std::uint64_t> trades{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (std::size_t e = 0; e < exchanges; ++e) {
    threads.emplace_back([&, e] {
      LedgerClient client(cluster);
      lpb::TradeBatch batch = make_batch("ex-" + std::to_string(e), 1, batch_trades);
      for (std::uint64_t seq = 1; !stop; ++seq) {
        batch.set_sequence(seq);
        lpb::SubmitTradeBatchResponse response;
        if (!client.submit(batch, response, 30s, 10s).ok()) return;
        trades += batch_trades;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const std::uint64_t done = trades;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& t : threads) t.join();
  std::printf(
      "[%s] %zu validators, %-5s %zu exchanges x %4zu-trade batches: %9.0f trades/s (%6.1f "
      "batches/s)\n",
      label_of(binary).c_str(), validators, (sync + (tls ? "+TLS," : ",")).c_str(), exchanges,
      batch_trades, static_cast<double>(done) / elapsed,
      static_cast<double>(done) / elapsed / static_cast<double>(batch_trades));
}

// One exchange at a fixed rate of small batches: submit-to-answer latency.
void latency(const std::string& binary, std::size_t validators, double batches_per_second,
             std::size_t batch_trades, std::size_t count, const std::string& sync,
             bool tls = false) {
  Cluster cluster({.validators = validators, .wal_sync = sync, .binary = binary, .tls = tls});
  cluster.wait_for_leader();
  LedgerClient client(cluster);
  std::vector<double> ms;
  const auto interval = std::chrono::duration<double>(1.0 / batches_per_second);
  auto next = Clock::now();
  for (std::uint64_t seq = 1; seq <= count; ++seq) {
    std::this_thread::sleep_until(next);  // pacing the load, not synchronisation
    next += std::chrono::duration_cast<Clock::duration>(interval);
    const auto t0 = Clock::now();
    lpb::SubmitTradeBatchResponse response;
    if (!client.submit(make_batch("ex-1", seq, batch_trades), response).ok()) break;
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::printf(
      "[%s] %zu validators, %-6s %.0f batches/s of %zu trades (%.0f trades/s): commit p50 %.2f "
      "ms, p99 %.2f ms, max %.2f ms over %zu batches\n",
      label_of(binary).c_str(), validators, (sync + (tls ? "+TLS," : ",")).c_str(),
      batches_per_second, batch_trades, batches_per_second * static_cast<double>(batch_trades),
      percentile(ms, 0.5), percentile(ms, 0.99), percentile(ms, 1.0), ms.size());
}

// kill -9 of the leader while an exchange submits; the time to the first batch committed in a
// newer term. Repeated, restarting the killed validator in between.
void failover(const std::string& binary, std::size_t validators, int rounds) {
  Cluster cluster(
      {.validators = validators, .heartbeat_ms = 15, .election_timeout_ms = 150, .binary = binary});
  std::vector<double> ms;
  std::uint64_t seq = 1;
  LedgerClient client(cluster);
  for (int round = 0; round < rounds; ++round) {
    const std::size_t leader = cluster.wait_for_leader();
    lpb::SubmitTradeBatchResponse response;
    if (!client.submit(make_batch("ex-1", seq++, 10), response).ok()) return;
    const std::uint64_t old_term = response.term();
    const auto killed = Clock::now();
    cluster.kill(leader);
    for (;;) {
      if (!client.submit(make_batch("ex-1", seq++, 10), response, 10s, 100ms).ok()) return;
      if (response.term() > old_term) break;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - killed).count());
    cluster.start(leader);
    eventually([&] { return cluster.converged(); }, 20s);
  }
  std::printf(
      "[%s] %zu validators, election timeout 150-300 ms: failover (kill -9 to first commit) "
      "p50 %.0f ms, max %.0f ms over %d kills\n",
      label_of(binary).c_str(), validators, percentile(ms, 0.5), percentile(ms, 1.0), rounds);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5.0;
  std::vector<std::string> binaries{VALIDATORD_BINARY};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--also" && i + 1 < argc) {
      binaries.push_back(argv[++i]);
    } else {
      seconds = std::atof(argv[i]);
    }
  }
  std::printf("validatord benchmark: real processes on loopback, fsync unless stated\n");
  const auto each = [&](const auto& measure) {
    for (const auto& binary : binaries) measure(binary);
  };
  for (std::size_t validators : {3u, 5u}) {
    each([&](const std::string& b) { throughput(b, validators, 4, 4096, seconds, "fsync"); });
  }
  // What mutual TLS costs, beside the same shape without.
  each([&](const std::string& b) { throughput(b, 3, 4, 4096, seconds, "fsync", true); });
  each([&](const std::string& b) { throughput(b, 3, 4, 4096, seconds, "none"); });
  each([&](const std::string& b) { throughput(b, 3, 1, 100, seconds, "fsync"); });
  for (std::size_t validators : {3u, 5u}) {
    each([&](const std::string& b) { latency(b, validators, 100, 100, 500, "fsync"); });
  }
  each([&](const std::string& b) { latency(b, 3, 100, 100, 500, "fsync", true); });
  each([&](const std::string& b) { latency(b, 3, 100, 100, 500, "none"); });
  each([&](const std::string& b) { latency(b, 3, 100, 100, 500, "none", true); });
  for (std::size_t validators : {3u, 5u})
    each([&](const std::string& b) { failover(b, validators, 5); });
  return 0;
}
