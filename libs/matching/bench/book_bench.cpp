// The order book under exchange-core's benchmark mix: about 9% GTC orders, 3% IOC, 6% cancels and
// 82% modifies (moves to a new price), with about 1000 resting orders over about 750 levels.
//
// The command stream is generated once, before timing, from a fixed seed (a shadow book tells the
// generator which orders are live). BM_mix_throughput replays it on a fresh book per iteration and
// reports operations per second. BM_mix_latency replays it timing each operation with
// steady_clock and reports p50/p99/p99.9 per operation type in nanoseconds (clock_ns is the cost
// of one clock pair, included in every figure). A benchmark reports; it never fails on timing.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <random>
#include <vector>

#include "mkt/matching/order_book.h"

using namespace mkt::matching;

namespace {

enum class Kind : std::uint8_t { gtc, ioc, cancel, modify };
constexpr std::array<const char*, 4> kind_names{"gtc", "ioc", "cancel", "modify"};

struct Command {
  Kind kind;
  NewOrder order;  // gtc, ioc; for cancel and modify: id, account, price, quantity
};

struct Stream {
  std::vector<Command> commands;
  std::size_t resting_at_end = 0;
  std::size_t levels_at_end = 0;
};

void apply(OrderBook& book, const Command& c, std::vector<Event>& out) {
  switch (c.kind) {
    case Kind::gtc:
    case Kind::ioc:
      book.submit(c.order, out);
      break;
    case Kind::cancel:
      book.cancel(c.order.id, c.order.account, out);
      break;
    case Kind::modify:
      book.modify(c.order.id, c.order.account, c.order.price, c.order.quantity, out);
      break;
  }
}

Stream generate(std::size_t count) {
  constexpr Price mid = 100'000;
  constexpr Price spread_half_ticks = 600;  // ~750 occupied levels with ~1000 orders
  constexpr std::size_t resting_target = 1000;
  std::mt19937_64 rng(42);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  OrderBook shadow;
  std::vector<Event> out;
  std::vector<OrderId> live;  // may hold ids that have since filled; fixed up lazily
  Stream stream;
  stream.commands.reserve(count);
  OrderId next_id = 1;
  auto resting_price = [&](Side side) {
    const Price offset = uniform(1, spread_half_ticks);
    return side == Side::buy ? mid - offset : mid + offset;
  };
  while (stream.commands.size() < count) {
    const std::int64_t roll = uniform(0, 99);
    Kind kind = roll < 9    ? Kind::gtc
                : roll < 12 ? Kind::ioc
                : roll < 18 ? Kind::cancel
                            : Kind::modify;
    // Keep the book near its target size without changing the mix much.
    if (shadow.open_orders() < resting_target - 100 && kind == Kind::cancel) kind = Kind::gtc;
    if (shadow.open_orders() > resting_target + 100 && kind == Kind::gtc) kind = Kind::cancel;
    if (stream.commands.size() < resting_target) kind = Kind::gtc;
    Command c{kind, {}};
    c.order.account = static_cast<AccountId>(uniform(0, 999));
    c.order.side = uniform(0, 1) == 0 ? Side::buy : Side::sell;
    c.order.quantity = uniform(1, 100);
    if (kind == Kind::gtc || kind == Kind::ioc) {
      c.order.id = next_id++;
      c.order.tif = kind == Kind::gtc ? TimeInForce::gtc : TimeInForce::ioc;
      c.order.price = resting_price(c.order.side);
      if (kind == Kind::ioc) {  // aggressive: crosses a few levels
        const Price through = uniform(0, 8);
        c.order.price = c.order.side == Side::buy ? mid + through : mid - through;
      }
    } else {
      OrderView view{};
      while (!live.empty()) {
        const std::size_t i = static_cast<std::size_t>(uniform(0, std::ssize(live) - 1));
        if (shadow.find(live[i], view)) break;
        live[i] = live.back();
        live.pop_back();
      }
      if (live.empty()) continue;
      c.order.id = view.id;
      c.order.account = view.account;
      c.order.side = view.side;
      c.order.quantity = view.remaining;
      c.order.price = kind == Kind::modify ? resting_price(view.side) : view.price;
    }
    out.clear();
    apply(shadow, c, out);
    if (kind == Kind::gtc) live.push_back(c.order.id);
    stream.commands.push_back(c);
  }
  stream.resting_at_end = shadow.open_orders();
  stream.levels_at_end = shadow.levels(Side::buy).size() + shadow.levels(Side::sell).size();
  return stream;
}

const Stream& stream() {
  static const Stream s = generate(2'000'000);
  return s;
}

void BM_mix_throughput(benchmark::State& state) {
  const Stream& s = stream();
  std::vector<Event> out;
  out.reserve(1024);
  for (auto _ : state) {
    OrderBook book;
    for (const Command& c : s.commands) {
      out.clear();
      apply(book, c, out);
    }
    benchmark::DoNotOptimize(book.open_orders());
  }
  state.SetItemsProcessed(state.iterations() * std::ssize(s.commands));
  state.counters["resting_end"] = static_cast<double>(s.resting_at_end);
  state.counters["levels_end"] = static_cast<double>(s.levels_at_end);
}
BENCHMARK(BM_mix_throughput)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_mix_latency(benchmark::State& state) {
  using clock = std::chrono::steady_clock;
  const Stream& s = stream();
  std::vector<Event> out;
  out.reserve(1024);
  std::array<std::vector<std::int64_t>, 4> samples;
  for (auto& v : samples) v.reserve(s.commands.size());
  for (auto _ : state) {
    OrderBook book;
    for (const Command& c : s.commands) {
      out.clear();
      const auto start = clock::now();
      apply(book, c, out);
      const auto stop = clock::now();
      samples[static_cast<std::size_t>(c.kind)].push_back((stop - start).count());
    }
  }
  std::vector<std::int64_t> overhead(100'000);
  for (auto& o : overhead) {
    const auto a = clock::now();
    o = (clock::now() - a).count();
  }
  auto percentile = [](std::vector<std::int64_t>& v, double p) {
    if (v.empty()) return 0.0;
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return static_cast<double>(v[k]);
  };
  state.counters["clock_ns"] = percentile(overhead, 0.5);
  for (std::size_t k = 0; k < samples.size(); ++k) {
    const std::string name = kind_names[k];
    state.counters[name + "_p50_ns"] = percentile(samples[k], 0.5);
    state.counters[name + "_p99_ns"] = percentile(samples[k], 0.99);
    state.counters[name + "_p999_ns"] = percentile(samples[k], 0.999);
  }
}
BENCHMARK(BM_mix_latency)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
