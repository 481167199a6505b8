// Deterministic simulation of Raft clusters, in the manner of TigerBeetle's VOPR: virtual time, a
// simulated network that delays, drops, duplicates and reorders messages, random partitions,
// crashes and restarts (losing what was written unsynced), and a slow disk (a Ready's write ends
// ticks later while the node steps on, the window validatord's writer thread opens), all drawn
// from one seed. A run has a safety phase with faults, checked
// continuously by cluster.h's checkers, then a liveness phase (everything healed and restarted,
// no drops) that must elect a leader and bring every replica to the same state.
//
// A failure prints its seed; replay one run (with a trace of elections and faults) with
//   RAFT_SIM_SEED=<seed> RAFT_SIM_NODES=<n> RAFT_SIM_TRACE=1
//   build/debug/libs/raft/mkt_raft_tests "raft simulation: one seed"
// CI runs RAFT_SIM_SEEDS seeds per cluster size (default below) and the regression seeds.

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <iostream>
#include <queue>
#include <random>
#include <sstream>

#include "cluster.h"

namespace mkt::raft {
namespace {

using testing::Cluster;

// Seeds that once failed, kept so the bug they found stays fixed: "nodes seed".
constexpr std::pair<std::size_t, std::uint64_t> regression_seeds[] = {
    {3, 1},
    {5, 1},
};

constexpr std::int64_t tick_ms = 10;
constexpr std::int64_t safety_ms = 20'000;
constexpr std::int64_t liveness_ms_max = 20'000;

struct Outcome {
  std::string failure;  // empty when every check held
  std::size_t committed = 0;
  std::size_t leaders = 0;
  std::int64_t converged_after_ms = 0;
};

class Simulation {
 public:
  Simulation(std::size_t nodes, std::uint64_t seed, bool trace)
      : rng_(seed),
        trace_(trace),
        cluster_(
            nodes, seed, [this](const std::string& what) { violation(what); },
            [](Config& c) {
              c.election_ticks = 10;
              c.message_bytes_max = 4096;
              c.inflight_max = 8;
            }) {
    cluster_.compact_every(50);
    // A slow disk: a third of the writes take until a later tick, while the node steps on.
    cluster_.hold_writes([this] { return chance(0.3); });
  }

  Outcome run() {
    safety_phase();
    if (outcome_.failure.empty()) liveness_phase();
    if (outcome_.failure.empty()) cluster_.check_logs();
    outcome_.committed = cluster_.applied_by().size();
    return outcome_;
  }

 private:
  struct InFlight {
    std::int64_t at_ms;
    std::uint64_t order;
    Message message;
    bool operator>(const InFlight& other) const {
      return std::tie(at_ms, order) > std::tie(other.at_ms, other.order);
    }
  };

  void violation(const std::string& what) {
    if (outcome_.failure.empty()) {
      outcome_.failure = what + " at " + std::to_string(now_ms_) + " ms";
    }
  }

  void log(const std::string& what) {
    if (trace_) std::cerr << now_ms_ << " ms: " << what << "\n";
  }

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  std::uint64_t pick(std::uint64_t n) { return rng_() % n; }
  NodeId any_node() { return cluster_.ids()[pick(cluster_.ids().size())]; }

  void send(std::vector<Message> messages) {
    for (auto& m : messages) {
      if (group_[m.from] != group_[m.to] || chance(drop_)) continue;
      const int copies = chance(0.01) ? 2 : 1;
      for (int i = 0; i < copies; ++i) {
        std::int64_t delay_ms = 1 + static_cast<std::int64_t>(pick(max_delay_ms_));
        if (chance(0.02)) delay_ms += 100;  // a straggler, reordered behind later messages
        flight_.push({now_ms_ + delay_ms, order_++, m});
      }
    }
  }

  // One tick of virtual time: deliver what is due, tick every live node, propose.
  void step() {
    now_ms_ += tick_ms;
    while (!flight_.empty() && flight_.top().at_ms <= now_ms_) {
      Message m = flight_.top().message;
      flight_.pop();
      if (group_[m.from] != group_[m.to]) continue;  // a partition also cuts what is in flight
      send(cluster_.deliver(m));
    }
    for (NodeId id : cluster_.ids()) {
      if (!cluster_.up(id)) continue;
      if (chance(0.5)) send(cluster_.complete_write(id));
      cluster_.node(id).tick();
      send(cluster_.process(id));
    }
    track_leader();
  }

  void track_leader() {
    auto leader = cluster_.leader();
    if (leader && (*leader != last_leader_ || cluster_.node(*leader).term() != last_term_)) {
      last_leader_ = *leader;
      last_term_ = cluster_.node(*leader).term();
      ++outcome_.leaders;
      log("node " + std::to_string(*leader) + " leads term " + std::to_string(last_term_));
    }
  }

  void propose_some() {
    auto leader = cluster_.leader();
    if (!leader) return;
    const int count = static_cast<int>(pick(4));
    for (int i = 0; i < count; ++i) {
      if (cluster_.node(*leader).propose("p" + std::to_string(proposals_)).has_value()) {
        ++proposals_;
      }
    }
    send(cluster_.process(*leader));
  }

  void partition() {
    for (NodeId id : cluster_.ids()) group_[id] = pick(2);
    std::ostringstream text;
    text << "partition:";
    for (NodeId id : cluster_.ids()) text << " " << id << "->" << group_[id];
    log(text.str());
  }

  void heal() {
    for (NodeId id : cluster_.ids()) group_[id] = 0;
    log("heal");
  }

  void inject_faults() {
    if (chance(0.01)) partition();
    if (chance(0.01)) heal();
    if (chance(0.005)) {
      drop_ = std::uniform_real_distribution<double>(0, 0.3)(rng_);
      max_delay_ms_ = 1 + pick(40);
      log("drop " + std::to_string(drop_) + ", delay up to " + std::to_string(max_delay_ms_));
    }
    const NodeId id = any_node();
    if (cluster_.up(id) && chance(0.004)) {
      cluster_.crash(id);
      log("crash " + std::to_string(id));
    } else if (!cluster_.up(id) && chance(0.03)) {
      cluster_.start(id);
      log("restart " + std::to_string(id));
    }
    if (chance(0.002)) {
      if (auto leader = cluster_.leader()) {
        const NodeId to = any_node();
        if (to != *leader && cluster_.node(*leader).transfer_leadership(to)) {
          log("transfer " + std::to_string(*leader) + " -> " + std::to_string(to));
          send(cluster_.process(*leader));
        }
      }
    }
  }

  void safety_phase() {
    while (now_ms_ < safety_ms && outcome_.failure.empty()) {
      inject_faults();
      if (chance(0.5)) propose_some();
      step();
      if (now_ms_ % 1000 == 0) cluster_.check_logs();
    }
  }

  // Everything healed: a leader must be elected and every replica must apply the same entries,
  // including one proposed now.
  void liveness_phase() {
    heal();
    drop_ = 0;
    max_delay_ms_ = 10;
    for (NodeId id : cluster_.ids()) {
      if (!cluster_.up(id)) cluster_.start(id);
    }
    const std::int64_t start_ms = now_ms_;
    std::uint64_t marker_term = 0;  // the term the pending marker was proposed in
    while (now_ms_ - start_ms < liveness_ms_max && outcome_.failure.empty()) {
      step();
      auto leader = cluster_.leader();
      if (!leader) continue;
      if (!cluster_.applied_by().contains("marker")) {
        // Proposed again by each new leader: one of a deposed leader may be lost.
        Node& node = cluster_.node(*leader);
        if (marker_term != node.term() && node.propose("marker").has_value()) {
          marker_term = node.term();
          send(cluster_.process(*leader));
        }
        continue;
      }
      if (converged()) {
        outcome_.converged_after_ms = now_ms_ - start_ms;
        return;
      }
    }
    if (outcome_.failure.empty())
      violation("no convergence within the liveness phase:" + describe());
  }

  std::string describe() {
    std::ostringstream text;
    for (NodeId id : cluster_.ids()) {
      const Status st = cluster_.node(id).status();
      text << "\n  node " << id << " " << to_string(st.role) << " term " << st.term << " leader "
           << st.leader << " commit " << st.commit << " applied " << st.applied << " log "
           << st.first_index << ".." << st.last_index << " state " << cluster_.state(id).index;
      for (const auto& peer : st.peers) {
        text << " [" << peer.id << " match " << peer.match << " next " << peer.next << "]";
      }
    }
    return text.str();
  }

  bool converged() {
    const NodeId first = cluster_.ids().front();
    const auto commit = cluster_.node(first).log().committed();
    for (NodeId id : cluster_.ids()) {
      const Node& n = cluster_.node(id);
      if (n.log().committed() != commit || n.log().applied() != commit ||
          cluster_.state(id).index != commit ||
          cluster_.state(id).hash != cluster_.state(first).hash) {
        return false;
      }
    }
    return commit >= cluster_.applied_by().at("marker");
  }

  std::mt19937_64 rng_;
  bool trace_;
  Outcome outcome_;
  Cluster cluster_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> flight_;
  std::map<NodeId, std::uint64_t> group_;
  double drop_ = 0.05;
  std::uint64_t max_delay_ms_ = 10;
  std::int64_t now_ms_ = 0;
  std::uint64_t order_ = 0;
  std::uint64_t proposals_ = 0;
  NodeId last_leader_ = no_node;
  std::uint64_t last_term_ = 0;
};

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

void run_seed(std::size_t nodes, std::uint64_t seed, bool trace = false) {
  const Outcome outcome = Simulation(nodes, seed, trace).run();
  INFO("replay: RAFT_SIM_SEED=" << seed << " RAFT_SIM_NODES=" << nodes << " RAFT_SIM_TRACE=1");
  CHECK(outcome.failure.empty());
  if (!outcome.failure.empty()) UNSCOPED_INFO(outcome.failure);
  CHECK(outcome.failure == "");
  CHECK(outcome.committed > 0);
}

TEST_CASE("raft simulation: seeded runs of 3 and 5 nodes under faults converge") {
  const std::uint64_t seeds = env_or("RAFT_SIM_SEEDS", 40);
  const std::uint64_t first = env_or("RAFT_SIM_FIRST_SEED", 1000);
  for (std::size_t nodes : {3u, 5u}) {
    for (std::uint64_t seed = first; seed < first + seeds; ++seed) run_seed(nodes, seed);
  }
}

TEST_CASE("raft simulation: regression seeds") {
  for (const auto& [nodes, seed] : regression_seeds) run_seed(nodes, seed);
}

TEST_CASE("raft simulation: one seed") {
  const std::uint64_t seed = env_or("RAFT_SIM_SEED", 0);
  if (seed == 0) SKIP("set RAFT_SIM_SEED (and RAFT_SIM_NODES) to replay one run");
  run_seed(env_or("RAFT_SIM_NODES", 3), seed, env_or("RAFT_SIM_TRACE", 0) != 0);
}

TEST_CASE("raft simulation: the same seed gives the same run") {
  const Outcome a = Simulation(5, 42, false).run();
  const Outcome b = Simulation(5, 42, false).run();
  CHECK(a.committed == b.committed);
  CHECK(a.leaders == b.leaders);
  CHECK(a.converged_after_ms == b.converged_after_ms);
}

}  // namespace
}  // namespace mkt::raft
