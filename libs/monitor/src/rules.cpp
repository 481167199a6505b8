#include "mkt/monitor/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace mkt::monitor {
namespace {

constexpr std::array<std::string_view, 11> rule_names{
    "link_latency",     "link_loss",          "link_bandwidth",        "partition",
    "node_down",        "no_leader",          "commit_stall",          "stale_market_data",
    "price_divergence", "agent_disconnected", "settlement_lag_growing"};

// "1.25 s", "340 ms", "12 us": a duration in the unit a person would use.
std::string duration_us(double us) {
  if (us >= 1e6) return fmt::format("{:.2f} s", us / 1e6);
  if (us >= 1e3) return fmt::format("{:.1f} ms", us / 1e3);
  return fmt::format("{:.0f} us", us);
}

bool up(const Observation& o, const std::string& id) {
  return std::any_of(o.nodes.begin(), o.nodes.end(),
                     [&](const NodeObservation& n) { return n.id == id && n.up; });
}

// The leader: the one with the highest term among those that say they lead.
const ValidatorObservation* leader_of(const Observation& o) {
  const ValidatorObservation* leader = nullptr;
  for (const ValidatorObservation& v : o.validators) {
    if (v.leads && (leader == nullptr || v.term > leader->term)) leader = &v;
  }
  return leader;
}

}  // namespace

Rules::Rules(RuleParams params, Hysteresis hysteresis, std::size_t history_max)
    : params_(params), book_(hysteresis, history_max) {}

std::vector<Check> Rules::link_checks(const Observation& o) const {
  const double band = book_.hysteresis().band;
  std::vector<Check> out;
  for (const LinkObservation& link : o.links) {
    const std::string subject = link.from + ">" + link.to;
    const auto max_latency = static_cast<double>(params_.max_latency_us);
    out.push_back({.rule = "link_latency",
                   .subject = subject,
                   .severity = Severity::warning,
                   .verdict = link.carried_traffic
                                  ? compare(link.delay_p99_us, max_latency, true, band)
                                  : Verdict::clear,
                   .value = link.delay_p99_us,
                   .threshold = max_latency,
                   .evidence = fmt::format("p99 delay {} > {}", duration_us(link.delay_p99_us),
                                           duration_us(max_latency))});
    const auto max_loss = static_cast<double>(params_.max_packet_loss_ppm);
    out.push_back({.rule = "link_loss",
                   .subject = subject,
                   .severity = Severity::warning,
                   .verdict = link.carried_traffic ? compare(link.loss_ppm, max_loss, true, band)
                                                   : Verdict::clear,
                   .value = link.loss_ppm,
                   .threshold = max_loss,
                   .evidence = fmt::format("{:.2f}% of segments lost > {:.2f}%",
                                           link.loss_ppm / 1e4, max_loss / 1e4)});
    const auto min_bandwidth = static_cast<double>(params_.min_bandwidth_kbps);
    const auto cap = static_cast<double>(link.bandwidth_cap_kbps);
    out.push_back(
        {.rule = "link_bandwidth",
         .subject = subject,
         .severity = Severity::warning,
         .verdict = link.bandwidth_cap_kbps > 0 ? compare(cap, min_bandwidth, false, band)
                                                : Verdict::clear,
         .value = cap,
         .threshold = min_bandwidth,
         .evidence = fmt::format("capped at {:.0f} kbit/s < {:.0f} kbit/s", cap, min_bandwidth)});
    const bool cut = link.partitioned || link.unreachable;
    out.push_back({.rule = "partition",
                   .subject = subject,
                   .severity = Severity::critical,
                   .verdict = cut ? Verdict::breach : Verdict::clear,
                   .value = cut ? 1.0 : 0.0,
                   .threshold = 0,
                   .evidence = link.partitioned
                                   ? "black-holed by the proxy"
                                   : link.from + "'s calls to " + link.to + " fail while " +
                                         link.to + " answers the monitor"});
  }
  return out;
}

std::vector<Check> Rules::node_checks(const Observation& o) const {
  std::vector<Check> out;
  for (const NodeObservation& node : o.nodes) {
    out.push_back({.rule = "node_down",
                   .subject = node.id,
                   .severity = Severity::error,
                   .verdict = node.up ? Verdict::clear : Verdict::breach,
                   .value = node.up ? 0.0 : 1.0,
                   .threshold = 0,
                   .evidence = node.role + " does not answer" +
                               (node.error.empty() ? "" : ": " + node.error)});
  }
  return out;
}

std::vector<Check> Rules::consensus_checks(const Observation& o, std::int64_t now_ns) {
  std::vector<Check> out;
  const bool expected = std::any_of(o.nodes.begin(), o.nodes.end(),
                                    [](const NodeObservation& n) { return n.role == "validator"; });
  if (!expected) return out;
  const ValidatorObservation* leader = leader_of(o);
  std::int64_t commit = -1;
  for (const ValidatorObservation& v : o.validators) commit = std::max(commit, v.commit_index);
  out.push_back({.rule = "no_leader",
                 .subject = "consensus",
                 .severity = Severity::error,
                 .verdict = leader != nullptr ? Verdict::clear : Verdict::breach,
                 .value = static_cast<double>(o.validators.size()),
                 .threshold = 0,
                 .evidence = fmt::format("none of the {} validators that answer leads",
                                         o.validators.size())});

  if (commit > commit_index_ || commit_index_ < 0) {
    commit_index_ = std::max(commit, commit_index_);
    commit_moved_ns_ = now_ns;
  }
  const ExchangeObservation* waiting = nullptr;
  for (const ExchangeObservation& e : o.exchanges) {
    if (e.settlement_lag_ms > 0 &&
        (waiting == nullptr || e.settlement_lag_ms > waiting->settlement_lag_ms)) {
      waiting = &e;
    }
  }
  const std::int64_t limit_ns =
      params_.commit_stall_timeouts * params_.election_timeout_ms * 1'000'000;
  const std::int64_t stalled_ns = now_ns - commit_moved_ns_;
  out.push_back(
      {.rule = "commit_stall",
       .subject = "consensus",
       .severity = Severity::critical,
       .verdict = waiting != nullptr && stalled_ns > limit_ns ? Verdict::breach : Verdict::clear,
       .value = static_cast<double>(stalled_ns) / 1e6,
       .threshold = static_cast<double>(limit_ns) / 1e6,
       .evidence = fmt::format(
           "commit index {} has not moved for {} ({} election timeouts: {}) while {} waits {} "
           "to settle",
           commit_index_, duration_us(static_cast<double>(stalled_ns) / 1e3),
           params_.commit_stall_timeouts, duration_us(static_cast<double>(limit_ns) / 1e3),
           waiting != nullptr ? waiting->id : "no exchange",
           duration_us(waiting != nullptr ? waiting->settlement_lag_ms * 1e3 : 0))});
  return out;
}

std::vector<Check> Rules::market_checks(const Observation& o, std::int64_t now_ns) const {
  std::vector<Check> out;
  const auto stale_ns = params_.stale_after_ms * 1'000'000;
  std::map<std::string, std::vector<const QuoteObservation*>> fresh;  // by symbol
  for (const QuoteObservation& q : o.quotes) {
    if (!up(o, q.venue)) continue;
    const std::int64_t age_ns = q.changed_ns > 0 ? now_ns - q.changed_ns : 0;
    const bool stale = o.agents_trading && age_ns > stale_ns;
    out.push_back(
        {.rule = "stale_market_data",
         .subject = q.venue + "/" + q.symbol,
         .severity = Severity::warning,
         .verdict = stale ? Verdict::breach : Verdict::clear,
         .value = static_cast<double>(age_ns) / 1e6,
         .threshold = static_cast<double>(params_.stale_after_ms),
         .evidence = fmt::format("{} prices on {} unchanged for {} while agents trade", q.symbol,
                                 q.venue, duration_us(static_cast<double>(age_ns) / 1e3))});
    if (!stale && q.mid_ticks) fresh[q.symbol].push_back(&q);
  }
  const double band = book_.hysteresis().band;
  for (const auto& [symbol, quotes] : fresh) {
    if (quotes.size() < 2) continue;
    const auto [lo, hi] = std::minmax_element(
        quotes.begin(), quotes.end(), [](const QuoteObservation* a, const QuoteObservation* b) {
          return *a->mid_ticks < *b->mid_ticks;
        });
    const double low = *(*lo)->mid_ticks, high = *(*hi)->mid_ticks;
    const double ppm = low > 0 ? (high - low) / low * 1e6 : 0;
    const auto max = static_cast<double>(params_.max_price_divergence_ppm);
    out.push_back(
        {.rule = "price_divergence",
         .subject = symbol,
         .severity = Severity::warning,
         .verdict = compare(ppm, max, true, band),
         .value = ppm,
         .threshold = max,
         .evidence = fmt::format("{} mid {:.2f} on {} and {:.2f} on {}: {:.2f}% apart "
                                 "> {:.2f}%",
                                 symbol, high * (*hi)->tick_size, (*hi)->venue,
                                 low * (*lo)->tick_size, (*lo)->venue, ppm / 1e4, max / 1e4)});
  }
  for (const AgentFeed& feed : o.feeds) {
    out.push_back({.rule = "agent_disconnected",
                   .subject = feed.agent + ">" + feed.venue,
                   .severity = Severity::warning,
                   .verdict = feed.connected ? Verdict::clear : Verdict::breach,
                   .value = feed.connected ? 0.0 : 1.0,
                   .threshold = 0,
                   .evidence = feed.agent + " has no market data stream from " + feed.venue});
  }
  return out;
}

std::vector<Check> Rules::settlement_checks(const Observation& o, std::int64_t now_ns) {
  std::vector<Check> out;
  const std::int64_t window_ns = params_.lag_window_ms * 1'000'000;
  const auto floor = static_cast<double>(params_.lag_floor_ms);
  for (const ExchangeObservation& e : o.exchanges) {
    auto& samples = lags_[e.id];
    samples.emplace_back(now_ns, e.settlement_lag_ms);
    // Keep the newest sample at or before the window's start, and every one after it.
    while (samples.size() > 2 && samples[1].first <= now_ns - window_ns) {
      samples.erase(samples.begin());
    }
    const auto [first_ns, first] = samples.front();
    const double lag = e.settlement_lag_ms;
    const bool spans = now_ns - first_ns >= window_ns;
    const double grown = lag - first;
    Verdict verdict = Verdict::hold;
    if (lag < floor * (1 - book_.hysteresis().band) || grown < 0) {
      verdict = Verdict::clear;
    } else if (lag > floor && spans && grown >= static_cast<double>(params_.lag_window_ms) / 2) {
      verdict = Verdict::breach;
    }
    out.push_back(
        {.rule = "settlement_lag_growing",
         .subject = e.id,
         .severity = Severity::warning,
         .verdict = verdict,
         .value = lag,
         .threshold = floor,
         .evidence = fmt::format("{} settlement lag {}, up {} in {}", e.id, duration_us(lag * 1e3),
                                 duration_us(grown * 1e3),
                                 duration_us(static_cast<double>(now_ns - first_ns) / 1e3))});
  }
  std::erase_if(lags_, [&](const auto& entry) {
    return std::none_of(o.exchanges.begin(), o.exchanges.end(),
                        [&](const ExchangeObservation& e) { return e.id == entry.first; });
  });
  return out;
}

std::vector<AlertChange> Rules::observe(const Observation& o, std::int64_t now_ns) {
  std::vector<Check> checks = link_checks(o);
  for (auto more : {node_checks(o), consensus_checks(o, now_ns), market_checks(o, now_ns),
                    settlement_checks(o, now_ns)}) {
    checks.insert(checks.end(), std::make_move_iterator(more.begin()),
                  std::make_move_iterator(more.end()));
  }
  const std::vector<std::string_view> rules(rule_names.begin(), rule_names.end());
  auto changes = book_.apply(checks, rules, now_ns);

  if (const ValidatorObservation* leader = leader_of(o)) {
    if (!leader_.empty() && leader->id != leader_) {
      auto raised = book_.event({.rule = "leader_change",
                                 .subject = "consensus",
                                 .severity = Severity::info,
                                 .verdict = Verdict::breach,
                                 .value = static_cast<double>(leader->term),
                                 .threshold = 0,
                                 .evidence = fmt::format("{} leads in term {}, after {}",
                                                         leader->id, leader->term, leader_)},
                                now_ns);
      changes.insert(changes.end(), raised.begin(), raised.end());
    }
    leader_ = leader->id;
  }
  auto expired = book_.expire(now_ns);
  changes.insert(changes.end(), expired.begin(), expired.end());
  return changes;
}

}  // namespace mkt::monitor
