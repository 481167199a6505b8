#include "mkt/netmodel/links.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mkt/core/invariant.h"
#include "mkt/netmodel/delay.h"

namespace mkt::netmodel {

using scenario::DistributionKind;

namespace {

constexpr std::int64_t queue_ns_default = 250'000'000;
constexpr std::int64_t queue_bytes_min = 64 * 1024;
constexpr std::int64_t rto_min_ns = 200'000'000;

std::int64_t default_queue_bytes(std::int64_t rate_kbps) {
  // kbps * 1000 / 8 bytes per second, for 250 ms.
  return std::max(queue_bytes_min, rate_kbps * 1000 / 8 * queue_ns_default / 1'000'000'000);
}

double variance_us2(const scenario::Distribution& d) {
  switch (d.kind) {
    case DistributionKind::constant:
      return 0;
    case DistributionKind::uniform: {
      const auto w = static_cast<double>(d.max_us - d.min_us);
      return w * w / 12.0;
    }
    case DistributionKind::normal:
      return static_cast<double>(d.std_us) * static_cast<double>(d.std_us);
    case DistributionKind::exponential:
      return static_cast<double>(d.scale_us) * static_cast<double>(d.scale_us);
    case DistributionKind::pareto: {
      // Infinite for a shape of 2 or less: the scale stands for the spread then.
      const double a = static_cast<double>(d.shape_milli) / 1000.0;
      const auto s = static_cast<double>(d.scale_us);
      return a > 2.0 ? s * s * a / ((a - 1.0) * (a - 1.0) * (a - 2.0)) : s * s;
    }
  }
  return 0;
}

bool has_jitter(const scenario::Distribution& d) {
  return d.kind != DistributionKind::constant;
}

scenario::Distribution constant_us(std::int64_t us) {
  scenario::Distribution d;
  d.kind = DistributionKind::constant;
  d.value_us = us;
  return d;
}

}  // namespace

std::string check(const LinkParams& p) {
  const auto& d = p.latency;
  switch (d.kind) {
    case DistributionKind::constant:
      if (d.value_us < 0) return "latency must not be negative";
      break;
    case DistributionKind::uniform:
      if (d.min_us < 0 || d.max_us < d.min_us) return "uniform latency needs 0 <= min <= max";
      break;
    case DistributionKind::normal:
      if (d.mean_us < 0 || d.std_us < 0) return "normal latency needs mean, std >= 0";
      break;
    case DistributionKind::exponential:
      if (d.min_us < 0 || d.scale_us < 0) return "exponential latency needs min, scale >= 0";
      break;
    case DistributionKind::pareto:
      if (d.scale_us < 0 || d.shape_milli <= 0) {
        return "pareto latency needs scale >= 0 and shape > 0";
      }
      break;
  }
  if (p.bandwidth_kbps < 0) return "bandwidth must not be negative";
  for (std::uint32_t ppm :
       {p.loss.p_ppm, p.loss.r_ppm, p.loss.loss_good_ppm, p.loss.loss_bad_ppm}) {
    if (ppm > 1'000'000) return "a probability is at most 1000000 ppm";
  }
  if (p.loss.p_ppm > 0 && p.loss.r_ppm == 0) {
    return "bursty loss needs r > 0 (else the bad state never ends)";
  }
  if (p.queue_bytes < 0 || p.rto_us < 0) return "queue and rto must not be negative";
  return {};
}

LinkModel::HopState LinkModel::make_hop(const scenario::LinkSpec& spec, const LossSpec& loss,
                                        std::int64_t queue_bytes) {
  HopState hop;
  hop.spec = spec;
  if (spec.bandwidth_kbps > 0) {
    hop.bucket.emplace(spec.bandwidth_kbps, 0,
                       queue_bytes > 0 ? queue_bytes : default_queue_bytes(spec.bandwidth_kbps));
  }
  hop.loss = GilbertElliott(loss.p_ppm, loss.r_ppm, loss.loss_good_ppm, loss.loss_bad_ppm);
  hop.lossy = loss.any();
  return hop;
}

LinkModel LinkModel::build(const scenario::Scenario& scenario) {
  LinkModel m;
  m.scenario_ = &scenario;
  m.rng_.seed(scenario.seed);
  m.network_ = Network::build(scenario.topology(), scenario.seed);
  for (const auto& hop : m.network_.hops()) {
    m.hops_.push_back(make_hop(hop.spec, {0, 1'000'000, hop.spec.loss_ppm, 0}, 0));
  }
  // Access hops, up then down, of each node that has one.
  std::vector<std::optional<std::size_t>> access_up;
  for (const auto& node : scenario.nodes) {
    if (node.site.empty()) continue;
    m.nodes_.push_back(node.id);
    m.node_site_.push_back(m.network_.site_index(node.site));
    if (node.agent && node.agent->access_link) {
      const auto& spec = *node.agent->access_link;
      access_up.push_back(m.hops_.size());
      for (int direction = 0; direction < 2; ++direction) {
        m.hops_.push_back(make_hop(spec, {0, 1'000'000, spec.loss_ppm, 0}, 0));
      }
    } else {
      access_up.emplace_back();
    }
  }
  std::map<std::pair<std::size_t, std::size_t>, std::optional<Route>> routes;
  for (std::size_t a = 0; a < m.nodes_.size(); ++a) {
    for (std::size_t b = 0; b < m.nodes_.size(); ++b) {
      if (a == b) continue;
      LinkState link;
      link.source = a;
      link.destination = b;
      link.source_site = m.node_site_[a];
      link.destination_site = m.node_site_[b];
      if (access_up[a]) link.path.push_back(*access_up[a]);
      if (link.source_site && link.destination_site) {
        const auto key = std::pair{*link.source_site, *link.destination_site};
        auto it = routes.find(key);
        if (it == routes.end())
          it = routes.emplace(key, m.network_.route(key.first, key.second)).first;
        // Unreachable sites (an explicit graph in pieces) get no link at all.
        if (!it->second) continue;
        link.path.insert(link.path.end(), it->second->hops.begin(), it->second->hops.end());
      }
      if (access_up[b]) link.path.push_back(*access_up[b] + 1);
      m.by_pair_.emplace(std::pair{a, b}, m.links_.size());
      m.links_.push_back(std::move(link));
    }
  }
  return m;
}

std::optional<LinkId> LinkModel::find(std::string_view source, std::string_view destination) const {
  const auto a = std::find(nodes_.begin(), nodes_.end(), source);
  const auto b = std::find(nodes_.begin(), nodes_.end(), destination);
  if (a == nodes_.end() || b == nodes_.end()) return std::nullopt;
  const auto it = by_pair_.find(
      {static_cast<std::size_t>(a - nodes_.begin()), static_cast<std::size_t>(b - nodes_.begin())});
  if (it == by_pair_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> LinkModel::route(LinkId id) const {
  const LinkState& link = links_[id];
  std::vector<std::string> out{nodes_[link.source]};
  if (link.source_site && link.destination_site) {
    if (const auto r = network_.route(*link.source_site, *link.destination_site)) {
      for (SiteIndex s : r->sites) out.push_back(network_.sites()[s]);
    }
  }
  out.push_back(nodes_[link.destination]);
  return out;
}

bool LinkModel::pass(HopState& hop, std::int64_t& first, std::int64_t& last, std::int64_t bytes,
                     std::int64_t& retry_after) {
  if (hop.bucket) {
    const auto leave = hop.bucket->admit(first, bytes);
    if (!leave) {
      // The bytes reached this hop `first - now` after the read; offered again that much before
      // the hop has room, they reach it just as it has.
      retry_after = hop.bucket->room_at(first) - first;
      return false;
    }
    const std::int64_t segment = std::min(bytes, segment_bytes);
    // Done when the bucket has sent it all, and not before the last byte came in and was sent.
    const std::int64_t done = std::max(*leave, last + hop.bucket->ns_for(segment));
    first = std::max(first, done - hop.bucket->ns_for(bytes - segment));
    last = done;
  }
  if (hop.spec.latency.kind != DistributionKind::constant || hop.spec.latency.value_us != 0) {
    // Microseconds times thousandths: nanoseconds.
    const std::int64_t delay = sample_delay_us(hop.spec.latency, rng_) * hop.latency_milli;
    first += delay;
    last += delay;
  }
  return true;
}

bool LinkModel::lose_segment(LinkState& link) {
  if (link.override_hop) return link.override_hop->lossy && link.override_hop->loss.lose(rng_);
  for (std::size_t h : link.path) {
    if (hops_[h].lossy && hops_[h].loss.lose(rng_)) return true;
  }
  return false;
}

double LinkModel::mean_latency_us(const LinkState& link) const {
  if (link.override_hop) return mean_delay_us(link.override_hop->spec.latency);
  double sum = 0;
  for (std::size_t h : link.path) {
    sum +=
        mean_delay_us(hops_[h].spec.latency) * static_cast<double>(hops_[h].latency_milli) / 1000.0;
  }
  return sum;
}

std::int64_t LinkModel::rto_ns(const LinkState& link) const {
  if (link.override_params && link.override_params->rto_us > 0) {
    return link.override_params->rto_us * 1000;
  }
  return rto_min_ns + std::llround(2000.0 * mean_latency_us(link));
}

Transit LinkModel::send(LinkId id, Flow& flow, std::int64_t now_ns, std::int64_t bytes) {
  LinkState& link = links_[id];
  Transit out;
  std::int64_t first = now_ns, last = now_ns;
  std::int64_t retry_after = 0;  // when dropped: from now until the full queue has room
  bool passed = true;
  bool lossy = false;
  if (link.override_hop) {
    passed = pass(*link.override_hop, first, last, bytes, retry_after);
    lossy = link.override_hop->lossy;
  } else {
    for (std::size_t h : link.path) {
      lossy = lossy || hops_[h].lossy;
      if (!(passed = pass(hops_[h], first, last, bytes, retry_after))) break;
    }
  }
  if (!passed) {
    out.dropped = true;
    out.release_ns = now_ns + std::max<std::int64_t>(1000, retry_after);
    return out;
  }
  std::int64_t late_by = 0;
  if (lossy) {
    const std::int64_t rto = rto_ns(link);
    const std::int64_t segments = (bytes + segment_bytes - 1) / segment_bytes;
    for (std::int64_t s = 0; s < segments; ++s) {
      int losses = 0;
      while (losses < losses_in_a_row_max && lose_segment(link)) ++losses;
      out.segments_lost += static_cast<std::uint32_t>(losses);
      // Retransmitted after rto, then 2 rto, 4 rto...: late by rto * (2^losses - 1).
      late_by = std::max(late_by, rto * ((std::int64_t{1} << losses) - 1));
    }
  }
  out.release_ns = std::max(flow.last_release_ns, last + late_by);
  flow.last_release_ns = out.release_ns;
  return out;
}

std::int64_t LinkModel::narrowest_kbps(const LinkState& link) const {
  if (link.override_hop) {
    return link.override_hop->bucket ? link.override_hop->bucket->rate_kbps() : 0;
  }
  std::int64_t narrowest = 0;
  for (std::size_t h : link.path) {
    if (!hops_[h].bucket) continue;
    const std::int64_t rate = hops_[h].bucket->rate_kbps();
    narrowest = narrowest == 0 ? rate : std::min(narrowest, rate);
  }
  return narrowest;
}

std::int64_t LinkModel::chunk_bytes(LinkId id, std::int64_t max_bytes) const {
  const std::int64_t kbps = narrowest_kbps(links_[id]);
  if (kbps == 0) return max_bytes;
  // kbps * 1000 / 8 bytes per second, for 5 ms.
  return std::clamp<std::int64_t>(kbps * 1000 / 8 / 200, segment_bytes, max_bytes);
}

LinkParams LinkModel::params(LinkId id) const {
  const LinkState& link = links_[id];
  if (link.override_params) return *link.override_params;
  LinkParams p;
  double mean = 0, variance = 0, keep = 1;
  bool jitter = false;
  std::int64_t queue = 0;
  for (std::size_t h : link.path) {
    const HopState& hop = hops_[h];
    const double scale = static_cast<double>(hop.latency_milli) / 1000.0;
    mean += mean_delay_us(hop.spec.latency) * scale;
    variance += variance_us2(hop.spec.latency) * scale * scale;
    jitter = jitter || has_jitter(hop.spec.latency);
    keep *= 1.0 - hop.loss.stationary_loss();
    if (hop.bucket) {
      const std::int64_t q = hop.bucket->queue_limit_bytes();
      queue = queue == 0 ? q : std::min(queue, q);
    }
  }
  if (jitter) {
    p.latency.kind = DistributionKind::normal;
    p.latency.mean_us = std::llround(mean);
    p.latency.std_us = std::llround(std::sqrt(variance));
  } else {
    p.latency = constant_us(std::llround(mean));
  }
  p.bandwidth_kbps = narrowest_kbps(link);
  p.loss.loss_good_ppm = static_cast<std::uint32_t>(std::llround((1.0 - keep) * 1e6));
  p.queue_bytes = queue;
  p.rto_us = rto_ns(link) / 1000;
  return p;
}

void LinkModel::set_params(LinkId id, const LinkParams& params) {
  MKT_INVARIANT(check(params).empty(), "link parameters are checked before they are set");
  LinkState& link = links_[id];
  scenario::LinkSpec spec;
  spec.latency = params.latency;
  spec.bandwidth_kbps = params.bandwidth_kbps;
  link.override_hop = make_hop(spec, params.loss, params.queue_bytes);
  link.override_params = params;
  // Show what is in force: the queue the bucket got, the timeout the link uses.
  if (link.override_hop->bucket) {
    link.override_params->queue_bytes = link.override_hop->bucket->queue_limit_bytes();
  }
  link.override_params->rto_us = rto_ns(link) / 1000;
}

std::optional<CutMode> LinkModel::cut(LinkId id) const {
  const LinkState& link = links_[id];
  if (link.reset_cuts > 0) return CutMode::reset;
  if (link.blackhole_cuts > 0) return CutMode::blackhole;
  return std::nullopt;
}

std::expected<Partition, std::string> LinkModel::partition(const PartitionSpec& spec,
                                                           std::int64_t now_ns) {
  auto pairs = cut_pairs(spec, *scenario_, nodes_);
  if (!pairs) return std::unexpected(pairs.error());
  Partition p;
  p.id = "p" + std::to_string(++partitions_made_);
  p.spec = spec;
  p.created_ns = now_ns;
  for (const auto& [a, b] : *pairs) {
    const auto id = find(a, b);
    if (!id) continue;  // no route between them anyway
    p.cut.push_back(*id);
    auto& link = links_[*id];
    ++(spec.mode == CutMode::reset ? link.reset_cuts : link.blackhole_cuts);
  }
  partitions_.push_back(p);
  return p;
}

void LinkModel::uncut(const Partition& partition, std::vector<LinkId>& freed) {
  for (LinkId id : partition.cut) {
    auto& link = links_[id];
    --(partition.spec.mode == CutMode::reset ? link.reset_cuts : link.blackhole_cuts);
    freed.push_back(id);
  }
}

std::vector<LinkId> LinkModel::heal(std::string_view id) {
  std::vector<LinkId> freed;
  std::erase_if(partitions_, [&](const Partition& p) {
    if (!id.empty() && p.id != id) return false;
    uncut(p, freed);
    return true;
  });
  std::sort(freed.begin(), freed.end());
  freed.erase(std::unique(freed.begin(), freed.end()), freed.end());
  return freed;
}

std::vector<LinkId> LinkModel::reset() {
  for (auto& link : links_) {
    link.override_hop.reset();
    link.override_params.reset();
  }
  return heal("");
}

void LinkModel::refresh(HopState& hop) const {
  std::int64_t milli = 1000;
  double keep = 1;
  for (const auto& m : hop.modifiers) {
    milli = milli * m.latency_milli / 1000;
    keep *= 1.0 - static_cast<double>(m.bandwidth_reduction_ppm) / 1e6;
  }
  hop.latency_milli = milli;
  if (hop.bucket) {
    const auto rate = static_cast<double>(hop.spec.bandwidth_kbps) * keep;
    hop.bucket->set_rate_kbps(std::max<std::int64_t>(1, std::llround(rate)));
  }
}

void LinkModel::congest(std::size_t key, const scenario::Disruption& d, bool on) {
  std::vector<std::size_t> affected;
  const auto site_of = [&](const std::string& name) -> std::optional<SiteIndex> {
    if (const auto s = network_.site_index(name)) return s;
    const auto* node = scenario_->find_node(name);
    if (node == nullptr || node->site.empty()) return std::nullopt;
    return network_.site_index(node->site);
  };
  if (d.type == scenario::DisruptionType::regional_outage) {
    const auto* region = scenario_->topology().find_region(d.region);
    if (region == nullptr) return;
    for (std::size_t h = 0; h < network_.hops().size(); ++h) {
      const auto& hop = network_.hops()[h];
      for (const auto& site : region->sites) {
        const auto s = network_.site_index(site);
        if (s && (hop.from == *s || hop.to == *s)) affected.push_back(h);
      }
    }
  } else {
    for (const auto& [a, b] : d.links) {
      const auto sa = site_of(a), sb = site_of(b);
      if (!sa || !sb) continue;
      for (const auto& r : {network_.route(*sa, *sb), network_.route(*sb, *sa)}) {
        if (r) affected.insert(affected.end(), r->hops.begin(), r->hops.end());
      }
    }
  }
  std::sort(affected.begin(), affected.end());
  affected.erase(std::unique(affected.begin(), affected.end()), affected.end());
  for (std::size_t h : affected) {
    auto& mods = hops_[h].modifiers;
    std::erase_if(mods, [key](const Modifier& m) { return m.key == key; });
    if (on) mods.push_back({key, d.latency_multiplier_milli, d.bandwidth_reduction_ppm});
    refresh(hops_[h]);
  }
}

}  // namespace mkt::netmodel
