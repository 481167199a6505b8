#pragma once
// Metrics a process keeps about itself, in Prometheus's model: counters, gauges and histograms,
// each a named family with fixed labels. Updates are lock-free atomics, safe from any thread;
// render() writes the Prometheus text exposition format (version 0.0.4). No I/O here: a service
// serves the text over HTTP (runtime/http_server.h).

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace mkt::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(std::int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(std::int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Integer observations (nanoseconds, bytes) in buckets with integer upper bounds. Rendered in the
// family's base unit: a value divided by `per_base` (1e9 turns nanoseconds into seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<std::int64_t> bounds);
  void observe(std::int64_t value);

  const std::vector<std::int64_t>& bounds() const { return bounds_; }
  // Per bucket, not cumulative; the last is above every bound.
  std::vector<std::uint64_t> counts() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  std::int64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  // The value below which `q` of the observations fall, as the upper bound of its bucket.
  std::int64_t quantile_bound(double q) const;

 private:
  std::vector<std::int64_t> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_{0};
};

// Bounds from `first` multiplying by `factor` up to `last` (1000, 2, 1e9: 1 us to 1 s in ns).
std::vector<std::int64_t> exponential_bounds(std::int64_t first, double factor, std::int64_t last);

// Of any histogram's buckets (per bucket, not cumulative; the +Inf one last): the upper bound of
// the bucket the q-th quantile falls in, the last finite bound when it falls past them all, and
// 0 when nothing was counted. Histogram::quantile_bound is this of its own counts.
std::int64_t quantile_bound(const std::vector<std::int64_t>& bounds,
                            const std::vector<std::uint64_t>& counts, double q);

enum class Type { counter, gauge, histogram };

// One series' value at one moment, histograms in the family's base unit.
struct Sample {
  std::string name;
  std::string help;
  Type type = Type::counter;
  Labels labels;
  std::int64_t value = 0;              // counter, gauge
  double per_base = 1;                 // gauge: value / per_base is in the base unit
  std::vector<double> bounds;          // histogram: upper bounds, +Inf not listed
  std::vector<std::uint64_t> buckets;  // per bucket (not cumulative), +Inf last
  std::uint64_t count = 0;
  double sum = 0;
};

class Registry {
 public:
  // The same name and labels give the same metric; a name is one type. Names follow
  // Prometheus's rules ([a-zA-Z_:][a-zA-Z0-9_:]*); a wrong name or a type clash is a programming
  // error and aborts.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  // A gauge kept in a smaller unit than its family's base unit (milliseconds of a _seconds
  // gauge) is rendered divided by `per_base`, as a histogram is.
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {},
               double per_base = 1);
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<std::int64_t>& bounds, double per_base,
                       const Labels& labels = {});

  // Families by name, each family's series in the order they were made.
  std::vector<Sample> samples() const;
  // The Prometheus text exposition format (0.0.4) of samples().
  std::string render() const;

 private:
  struct Series {
    Labels labels;
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Histogram* histogram = nullptr;
  };
  struct Family {
    Type type;
    std::string help;
    double per_base = 1;
    std::vector<Series> series;
  };
  Family& family(const std::string& name, Type type, const std::string& help);
  Series* find(Family& family, const Labels& labels);

  mutable std::mutex mutex_;  // guards the families, not the values
  std::map<std::string, Family> families_;
  std::deque<Counter> counters_;  // stable addresses
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
};

}  // namespace mkt::metrics
