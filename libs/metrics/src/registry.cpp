#include "mkt/metrics/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "mkt/core/invariant.h"

namespace mkt::metrics {

namespace {

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// {a="1",b="2"}, with `extra` (such as le="0.5") last; empty without labels.
std::string label_text(const Labels& labels, const std::string& extra = {}) {
  if (labels.empty() && extra.empty()) return {};
  std::string out = "{";
  for (const auto& [key, value] : labels) {
    if (out.size() > 1) out.push_back(',');
    out += key + "=\"" + escape(value) + "\"";
  }
  if (!extra.empty()) {
    if (out.size() > 1) out.push_back(',');
    out += extra;
  }
  return out + "}";
}

std::string number(double value) {
  return fmt::format("{}", value);
}

}  // namespace

Histogram::Histogram(std::vector<std::int64_t> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  MKT_INVARIANT(std::is_sorted(bounds_.begin(), bounds_.end()), "histogram bounds must ascend");
}

void Histogram::observe(std::int64_t value) {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

std::int64_t Histogram::quantile_bound(double q) const {
  return metrics::quantile_bound(bounds_, counts(), q);
}

std::int64_t quantile_bound(const std::vector<std::int64_t>& bounds,
                            const std::vector<std::uint64_t>& counts, double q) {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < bounds.size() && i < counts.size(); ++i) {
    seen += counts[i];
    if (seen >= rank) return bounds[i];
  }
  return bounds.empty() ? 0 : bounds.back();
}

std::vector<std::int64_t> exponential_bounds(std::int64_t first, double factor, std::int64_t last) {
  MKT_INVARIANT(first > 0 && factor > 1, "exponential bounds need first > 0 and factor > 1");
  std::vector<std::int64_t> out;
  for (double b = static_cast<double>(first); b <= static_cast<double>(last) * 1.0000001;
       b *= factor) {
    out.push_back(static_cast<std::int64_t>(std::llround(b)));
  }
  return out;
}

Registry::Family& Registry::family(const std::string& name, Type type, const std::string& help) {
  MKT_INVARIANT(valid_name(name), "not a Prometheus metric name");
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, 1, {}});
  MKT_INVARIANT(it->second.type == type, "a metric name registered with two types");
  return it->second;
}

Registry::Series* Registry::find(Family& family, const Labels& labels) {
  for (Series& s : family.series) {
    if (s.labels == labels) return &s;
  }
  return nullptr;
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::counter, help);
  if (Series* s = find(f, labels)) return *s->counter;
  f.series.push_back({labels, &counters_.emplace_back(), nullptr, nullptr});
  return *f.series.back().counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels,
                       double per_base) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::gauge, help);
  f.per_base = per_base;
  if (Series* s = find(f, labels)) return *s->gauge;
  f.series.push_back({labels, nullptr, &gauges_.emplace_back(), nullptr});
  return *f.series.back().gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<std::int64_t>& bounds, double per_base,
                               const Labels& labels) {
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::histogram, help);
  f.per_base = per_base;
  if (Series* s = find(f, labels)) return *s->histogram;
  f.series.push_back({labels, nullptr, nullptr, &histograms_.emplace_back(bounds)});
  return *f.series.back().histogram;
}

std::vector<Sample> Registry::samples() const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> out;
  for (const auto& [name, f] : families_) {
    for (const Series& s : f.series) {
      Sample& sample = out.emplace_back();
      sample.name = name;
      sample.help = f.help;
      sample.type = f.type;
      sample.labels = s.labels;
      if (s.counter != nullptr) {
        sample.value = static_cast<std::int64_t>(s.counter->value());
      } else if (s.gauge != nullptr) {
        sample.value = s.gauge->value();
        sample.per_base = f.per_base;
      } else {
        const Histogram& h = *s.histogram;
        for (std::int64_t bound : h.bounds()) {
          sample.bounds.push_back(static_cast<double>(bound) / f.per_base);
        }
        sample.buckets = h.counts();
        for (std::uint64_t c : sample.buckets) sample.count += c;
        sample.sum = static_cast<double>(h.sum()) / f.per_base;
      }
    }
  }
  return out;
}

std::string Registry::render() const {
  static constexpr const char* types[] = {"counter", "gauge", "histogram"};
  std::string out;
  const std::string* family = nullptr;
  const auto samples = this->samples();
  for (const Sample& s : samples) {
    if (family == nullptr || *family != s.name) {
      out += "# HELP " + s.name + " " + s.help + "\n";
      out += "# TYPE " + s.name + " " + types[static_cast<int>(s.type)] + "\n";
      family = &s.name;
    }
    if (s.type != Type::histogram) {
      const std::string value = s.per_base == 1 ? std::to_string(s.value)
                                                : number(static_cast<double>(s.value) / s.per_base);
      out += s.name + label_text(s.labels) + " " + value + "\n";
      continue;
    }
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < s.buckets.size(); ++i) {
      cumulative += s.buckets[i];
      const std::string le = i < s.bounds.size() ? number(s.bounds[i]) : std::string("+Inf");
      out += s.name + "_bucket" + label_text(s.labels, "le=\"" + le + "\"") + " " +
             std::to_string(cumulative) + "\n";
    }
    out += s.name + "_sum" + label_text(s.labels) + " " + number(s.sum) + "\n";
    out += s.name + "_count" + label_text(s.labels) + " " + std::to_string(s.count) + "\n";
  }
  return out;
}

}  // namespace mkt::metrics
