#pragma once
// The links of a running market: for every directed pair of nodes (source, destination), the
// path its bytes take and what that path does to them. The proxy applies this to the real bytes
// of each connection. No I/O; time comes in as nanoseconds.
//
// A link's path is the source's access hop (an agent's own network_config), the hops of the
// route between the two nodes' sites (network.h), then the destination's access hop. Hops are
// shared: every link through a hop shares its token bucket and its loss state, so congestion on
// one hop slows every flow through it. Through the control API a link can be given parameters
// of its own instead (an override: one private hop in place of the path).
//
// What happens to `bytes` read from a connection at `now`:
//   - at each hop in turn: wait for its token bucket (a full queue is a drop, see below), then
//     its latency, drawn from its distribution and scaled by any congestion on the hop. The bytes
//     are pipelined as segments: a hop starts sending as soon as the first segment has arrived,
//     so a chunk pays its serialisation once plus one segment per further hop, as on a network
//     of routers, not once per hop;
//   - each segment (1448 bytes) is lost at each hop by the hop's loss model; a lost segment
//     arrives one retransmission timeout later, doubled for each repeated loss (at most 6);
//   - the bytes are released no earlier than the flow's previous bytes: a connection's bytes
//     never overtake each other, so a late segment holds back the ones behind it.
// A drop at a full queue releases nothing: the flow offers the bytes again at the time returned,
// when the queue will have room (as TCP's fast retransmit resends a tail-dropped segment once
// duplicate acks tell of it, rather than after a timeout), and reads nothing new meanwhile. So a
// bottleneck stays busy while any flow has bytes for it, and queue drops add delay, not idleness.
//
// Defaults: a link's retransmission timeout is Linux's, 200 ms plus the round trip (twice the
// path's mean latency), unless overridden. A bucket sends at its rate with no burst (a segment's
// serialisation delay is real) and queues 250 ms at its rate, at least 64 KiB.
//
// Partitions cut links (partition.h): a cut link is held (black hole) or reset; cuts add up, and
// a link is free again when every partition that cut it has healed.

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mkt/netmodel/loss.h"
#include "mkt/netmodel/network.h"
#include "mkt/netmodel/partition.h"
#include "mkt/netmodel/random.h"
#include "mkt/netmodel/token_bucket.h"
#include "mkt/scenario/scenario.h"

namespace mkt::netmodel {

using LinkId = std::size_t;

inline constexpr std::int64_t segment_bytes = 1448;  // an Ethernet MSS with TCP timestamps
inline constexpr int losses_in_a_row_max = 6;

// Gilbert-Elliott loss in ppm (loss.h); Bernoulli loss is loss_good_ppm alone.
struct LossSpec {
  std::uint32_t p_ppm = 0;
  std::uint32_t r_ppm = 1'000'000;
  std::uint32_t loss_good_ppm = 0;
  std::uint32_t loss_bad_ppm = 0;
  bool any() const { return loss_good_ppm > 0 || (p_ppm > 0 && loss_bad_ppm > 0); }
};

// A link's parameters as the control API sets and shows them.
struct LinkParams {
  scenario::Distribution latency;   // one way
  std::int64_t bandwidth_kbps = 0;  // 0: unlimited
  LossSpec loss;
  std::int64_t queue_bytes = 0;  // 0: the default for the rate
  std::int64_t rto_us = 0;       // 0: the default for the latency
};

// What is wrong with the parameters, or empty.
std::string check(const LinkParams& params);

// One direction of one connection: what the model remembers between its chunks of bytes.
struct Flow {
  std::int64_t last_release_ns = 0;
};

struct Transit {
  bool dropped = false;
  // When the bytes may be delivered; when dropped, when to offer them again.
  std::int64_t release_ns = 0;
  std::uint32_t segments_lost = 0;  // each lost transmission counts
};

struct Partition {
  std::string id;
  PartitionSpec spec;
  std::vector<LinkId> cut;
  std::int64_t created_ns = 0;
};

class LinkModel {
 public:
  // Links between every two nodes placed on a site (every node but the proxy and the monitor,
  // which sit on the unimpaired management network). Randomness from the scenario's seed.
  static LinkModel build(const scenario::Scenario& scenario);

  const std::vector<std::string>& nodes() const { return nodes_; }
  std::size_t link_count() const { return links_.size(); }
  std::optional<LinkId> find(std::string_view source, std::string_view destination) const;
  const std::string& source(LinkId id) const { return nodes_[links_[id].source]; }
  const std::string& destination(LinkId id) const { return nodes_[links_[id].destination]; }
  // The source node, the sites of the route, the destination node.
  std::vector<std::string> route(LinkId id) const;

  Transit send(LinkId id, Flow& flow, std::int64_t now_ns, std::int64_t bytes);
  // How many bytes to read for one chunk, at most `max_bytes`: a chunk is delivered whole when
  // its last byte is due, so on a paced link it is at most 5 ms of the narrowest rate in force
  // (at least a segment); a 64 KiB chunk on a 1 Mbit/s link would arrive as one burst every
  // half second.
  std::int64_t chunk_bytes(LinkId id, std::int64_t max_bytes) const;

  // The override, or a summary of the path: the latency's mean and standard deviation over the
  // sum of the hops (normal when any hop has jitter; each hop is still drawn from its own
  // distribution), the narrowest bandwidth, the combined loss rate as Bernoulli, the smallest
  // queue. Congestion in effect is included.
  LinkParams params(LinkId id) const;
  bool overridden(LinkId id) const { return links_[id].override_hop.has_value(); }
  // `params` must pass check().
  void set_params(LinkId id, const LinkParams& params);

  // The cut in force on the link: reset wins over black hole.
  std::optional<CutMode> cut(LinkId id) const;
  // Cuts the links of the spec, or says what is wrong with it (nothing changes then).
  std::expected<Partition, std::string> partition(const PartitionSpec& spec, std::int64_t now_ns);
  // Heals one partition by id, or all when the id is empty; returns the links they had cut.
  std::vector<LinkId> heal(std::string_view id);
  const std::vector<Partition>& partitions() const { return partitions_; }
  // Every override gone and every partition healed; returns the links that had been cut.
  std::vector<LinkId> reset();

  // Starts or ends a timed congestion (a congestion disruption, or a regional outage with a
  // latency multiplier): the hops on the paths between its pairs of sites or nodes (or every hop
  // touching the region) get their latency multiplied and their bandwidth reduced. `key` tells
  // overlapping disruptions apart.
  void congest(std::size_t key, const scenario::Disruption& disruption, bool on);

 private:
  struct Modifier {
    std::size_t key = 0;
    std::uint32_t latency_milli = 1000;
    std::uint32_t bandwidth_reduction_ppm = 0;
  };
  struct HopState {
    scenario::LinkSpec spec;
    std::optional<TokenBucket> bucket;
    GilbertElliott loss{0, 1'000'000, 0, 0};
    bool lossy = false;
    std::vector<Modifier> modifiers;
    std::int64_t latency_milli = 1000;  // product of the modifiers'
  };
  struct LinkState {
    std::size_t source = 0;
    std::size_t destination = 0;
    std::vector<std::size_t> path;  // indices into hops_
    std::optional<std::size_t> source_site, destination_site;
    std::optional<HopState> override_hop;
    std::optional<LinkParams> override_params;
    std::uint32_t blackhole_cuts = 0;
    std::uint32_t reset_cuts = 0;
  };

  static HopState make_hop(const scenario::LinkSpec& spec, const LossSpec& loss,
                           std::int64_t queue_bytes);
  void refresh(HopState& hop) const;
  // Through one hop: the times the first and the last byte arrive at it in, leave it out; when
  // its queue is full, false and how long until it has room.
  bool pass(HopState& hop, std::int64_t& first, std::int64_t& last, std::int64_t bytes,
            std::int64_t& retry_after);
  bool lose_segment(LinkState& link);
  std::int64_t rto_ns(const LinkState& link) const;
  // The rate of the narrowest hop in force now (congestion included); 0: unlimited.
  std::int64_t narrowest_kbps(const LinkState& link) const;
  double mean_latency_us(const LinkState& link) const;
  void uncut(const Partition& partition, std::vector<LinkId>& freed);

  const scenario::Scenario* scenario_ = nullptr;
  Network network_;
  std::vector<std::string> nodes_;
  std::vector<std::optional<std::size_t>> node_site_;
  std::vector<HopState> hops_;  // the network's hops, then the access hops
  std::vector<LinkState> links_;
  std::map<std::pair<std::size_t, std::size_t>, LinkId> by_pair_;
  std::vector<Partition> partitions_;
  std::uint64_t partitions_made_ = 0;
  Rng rng_;
};

}  // namespace mkt::netmodel
