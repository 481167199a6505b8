#pragma once
// A scenario: one YAML file that describes a whole market. Its nodes (exchanges, validators,
// agents, the proxy, the monitor), the network between them, the symbols traded, the consensus
// protocol, and timed disruptions. Every process reads the same file and finds itself by node id.
//
// The format is documented in deploy/scenarios/README.md. This header is the validated, expanded
// form: counts are expanded into nodes, names are resolved, and every value is an integer in the
// unit its name ends with (ms, us, ppm, milli, ticks, lots, cents). Nothing here is floating point
// except geographic coordinates.

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mkt/core/decimal.h"
#include "mkt/core/enum_table.h"

namespace mkt::scenario {

// Limits on what one file may declare; beyond them the load fails with a clear error.
inline constexpr std::size_t file_bytes_max = 1 << 20;
inline constexpr std::size_t nodes_max = 1024;
inline constexpr std::size_t sites_max = 1024;
inline constexpr std::size_t symbols_per_market_max = 256;
inline constexpr std::size_t errors_reported_max = 20;

// Each enum's names in the file, one table read both ways (parsing and to_string).
enum class Role { exchange, validator, agent, proxy, monitor };
inline constexpr auto role_names =
    core::enum_table<Role, std::string_view>({{Role::exchange, "exchange"},
                                              {Role::validator, "validator"},
                                              {Role::agent, "agent"},
                                              {Role::proxy, "proxy"},
                                              {Role::monitor, "monitor"}});
std::string_view to_string(Role role);

enum class TopologyType { star, ring, mesh, hierarchical, random, geographic, explicit_links };
inline constexpr auto topology_type_names =
    core::enum_table<TopologyType, std::string_view>({{TopologyType::star, "star"},
                                                      {TopologyType::ring, "ring"},
                                                      {TopologyType::mesh, "mesh"},
                                                      {TopologyType::hierarchical, "hierarchical"},
                                                      {TopologyType::random, "random"},
                                                      {TopologyType::geographic, "geographic"},
                                                      {TopologyType::explicit_links, "explicit"}});
std::string_view to_string(TopologyType type);

enum class DistributionKind { constant, uniform, normal, exponential, pareto };
inline constexpr auto distribution_names = core::enum_table<DistributionKind, std::string_view>(
    {{DistributionKind::constant, "constant"},
     {DistributionKind::uniform, "uniform"},
     {DistributionKind::normal, "normal"},
     {DistributionKind::exponential, "exponential"},
     {DistributionKind::pareto, "pareto"}});
std::string_view to_string(DistributionKind kind);

// A delay distribution. Which fields are used depends on the kind:
//   constant: value_us          uniform: min_us, max_us
//   normal: mean_us, std_us     exponential: scale_us (mean), plus min_us as an offset
//   pareto: scale_us (its minimum), shape_milli (tail index * 1000), plus min_us as an offset
struct Distribution {
  DistributionKind kind = DistributionKind::constant;
  std::int64_t value_us = 0;
  std::int64_t min_us = 0;
  std::int64_t max_us = 0;
  std::int64_t mean_us = 0;
  std::int64_t std_us = 0;
  std::int64_t scale_us = 0;
  std::int64_t shape_milli = 0;
};

// Parameters of one hop. bandwidth_kbps == 0 means unlimited.
struct LinkSpec {
  Distribution latency;
  std::int64_t bandwidth_kbps = 0;
  std::uint32_t loss_ppm = 0;
};

// A link declared by name: the graph of an explicit topology, or an override in any other.
struct ExplicitLink {
  std::string from;
  std::string to;
  LinkSpec spec;
  bool bidirectional = true;
  int line = 0;
};

struct Region {
  std::string name;
  double latitude_deg = 0;
  double longitude_deg = 0;
  std::vector<std::string> sites;
};

// The network graph. Its vertices are sites ("node_0", ...); every process of the market sits at
// one site, and processes at one site are a LAN apart. Sites are named node_0..node_{n-1} for every
// generated type; for geographic, regions take consecutive numbers in the order declared.
struct Topology {
  std::string name;
  TopologyType type = TopologyType::mesh;
  std::vector<std::string> sites;
  LinkSpec link;                           // every hop's parameters unless overridden
  std::string central_site;                // star
  std::uint32_t fanout = 0;                // hierarchical (a tree rooted at node_0)
  std::uint32_t edge_probability_ppm = 0;  // random (seeded by the scenario seed)
  // geographic
  std::vector<Region> regions;
  std::map<std::pair<std::string, std::string>, std::int64_t> inter_region_latency_us;  // a < b
  std::int64_t intra_region_latency_us = 0;
  std::int64_t per_hop_us = 0;
  std::uint32_t route_factor_milli = 0;  // path length over great-circle distance, * 1000
  std::vector<ExplicitLink> links;       // explicit graph, or overrides

  const Region* find_region(std::string_view name) const;
  bool has_site(std::string_view site) const;
};

// One symbol of a market, with its trading grid.
struct Symbol {
  std::string name;
  core::Decimal tick_size;
  core::Decimal lot_size;
  std::int64_t reference_price_ticks = 0;
  std::int64_t cents_per_tick_lot = 0;  // cash of one tick on one lot, in cents
};

// A set of symbols traded together, with the statistics of their fundamental values.
struct Market {
  std::string name;
  std::vector<Symbol> symbols;
  std::uint32_t volatility_ppm = 0;  // daily, 20000 = 2%
  // Correlation of each pair of symbols (first < second), in ppm of [-1, 1].
  std::map<std::pair<std::string, std::string>, std::int32_t> correlations_ppm;
  std::uint32_t order_book_depth = 10;

  const Symbol* find_symbol(std::string_view symbol) const;
};

struct RiskLimits {
  std::int64_t max_order_quantity_lots = 1'000'000;
  std::int64_t max_position_lots = 10'000'000;
  std::uint32_t max_open_orders = 10'000;
  // Order entry per account (submits, cancels and modifies): a token bucket. 0: no limit.
  std::uint32_t orders_per_second = 1'000;
  std::uint32_t order_burst = 2'000;
  // Trades an exchange may hold that the ledger has not acknowledged: beyond, new orders wait
  // (cancels go through), so a long ledger outage bounds the exchange's memory, not its journal.
  std::uint32_t unsettled_trades_max = 100'000;
};

// A typed strategy parameter, checked against the strategy's schema. Numbers are kept exact.
struct Param {
  enum class Type { integer, decimal, boolean, duration, text, list };
  Type type = Type::text;
  std::int64_t integer = 0;  // integer; duration in microseconds
  core::Decimal decimal;     // decimal
  bool boolean = false;
  std::string text;
  std::vector<std::string> list;
};

struct AgentSpec {
  std::string strategy;
  std::string type_name;  // the agents[] entry it came from
  std::int64_t initial_balance_cents = 0;
  std::vector<std::string> venues;  // exchange ids; all exchanges when not given
  // The agent's own access link (the reference file's network_config), in series with its site.
  std::optional<LinkSpec> access_link;
  std::int64_t reaction_time_us = 0;
  std::map<std::string, Param> params;  // strategy_config, validated
};

struct ExchangeSpec {
  std::vector<std::string> markets;  // names of Scenario::markets
  RiskLimits risk;
};

// One process of the market.
struct Node {
  std::string id;
  Role role = Role::agent;
  std::string site;                      // empty for the proxy and the monitor (management net)
  std::optional<ExchangeSpec> exchange;  // role == exchange
  std::optional<AgentSpec> agent;        // role == agent
  int line = 0;                          // where it was declared, for messages
};

enum class ConsensusProtocol { raft, streamlet, pow };
inline constexpr auto protocol_names = core::enum_table<ConsensusProtocol, std::string_view>(
    {{ConsensusProtocol::raft, "raft"},
     {ConsensusProtocol::streamlet, "streamlet"},
     {ConsensusProtocol::pow, "pow"}});
std::string_view to_string(ConsensusProtocol protocol);

struct Consensus {
  ConsensusProtocol protocol = ConsensusProtocol::raft;
  std::int64_t heartbeat_ms = 100;
  std::int64_t election_timeout_ms = 1000;
  std::uint32_t batch_trades_max = 4096;
  std::int64_t epoch_ms = 1000;           // streamlet
  std::uint32_t difficulty_bits = 16;     // pow
  std::uint32_t confirmations = 6;        // pow
  std::uint32_t byzantine_nodes = 0;      // streamlet, pow
  std::vector<std::string> attack_types;  // silent, equivocate, double_spend, fake_orders
};

enum class DisruptionType { congestion, node_failure, regional_outage, partition };
inline constexpr auto disruption_names = core::enum_table<DisruptionType, std::string_view>(
    {{DisruptionType::congestion, "congestion"},
     {DisruptionType::node_failure, "node_failure"},
     {DisruptionType::regional_outage, "regional_outage"},
     {DisruptionType::partition, "partition"}});
std::string_view to_string(DisruptionType type);

// Something that happens to the network at a time: applied by the proxy (and, for node failures,
// by whoever runs the processes).
struct Disruption {
  std::string name;
  DisruptionType type = DisruptionType::congestion;
  std::int64_t start_ms = 0;
  std::int64_t duration_ms = 0;
  // congestion: pairs of sites or nodes whose path is congested.
  std::vector<std::pair<std::string, std::string>> links;
  std::uint32_t latency_multiplier_milli = 1000;
  std::uint32_t bandwidth_reduction_ppm = 0;  // 500000 = half the bandwidth is gone
  // node_failure: a site (everything on it) or a node.
  std::string target;
  std::int64_t recovery_ms = 0;
  // regional_outage
  std::string region;
  // partition: groups that cannot reach each other.
  std::vector<std::vector<std::string>> groups;
  bool one_way = false;
  bool reset = false;  // reset connections instead of holding bytes
  int line = 0;
};

// What monitord alerts on (see libs/monitor's rules.h for each rule).
struct AlertThresholds {
  std::int64_t max_latency_us = 1'000'000;
  std::uint32_t max_packet_loss_ppm = 100'000;
  std::int64_t min_bandwidth_kbps = 100;
  std::uint32_t max_price_divergence_ppm = 20'000;  // of the lowest venue's mid
  std::int64_t stale_after_ms = 10'000;             // market data unchanged while agents trade
  std::int64_t commit_stall_timeouts = 5;           // election timeouts without a commit
  std::int64_t settlement_lag_floor_ms = 2'000;     // a lag below this is not "growing"
  std::int64_t settlement_lag_window_ms = 10'000;   // ... and one that grew over this window is
};

// How an alert is raised and resolved without flapping.
struct AlertHysteresis {
  std::int64_t raise_after_ms = 2'000;  // in breach this long
  std::int64_t clear_after_ms = 5'000;  // clear this long
  std::uint32_t band_ppm = 100'000;     // of the threshold, between breach and clear
  std::int64_t event_hold_ms = 10'000;  // an event (a leader change) stays up this long
};

struct Monitoring {
  bool enabled = true;
  std::int64_t metrics_interval_ms = 10'000;  // the prototype's reporting interval
  std::int64_t scrape_interval_ms = 1'000;    // monitord reads every process this often
  std::int64_t history_points = 3'600;        // points kept per series (an hour at 1 s)
  std::int64_t alerts_kept = 1'000;           // resolved alerts kept
  std::string log_level = "info";             // trace, debug, info, warn, error
  bool network_visualization = true;
  AlertThresholds alert_thresholds;
  AlertHysteresis alert_hysteresis;
};

struct Scenario {
  std::string file;  // as given to parse(), for messages
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  std::int64_t duration_ms = 0;     // 0: runs until stopped
  std::int64_t time_step_ms = 100;  // the deterministic simulation's step
  std::map<std::string, Topology> topologies;
  std::string active_topology;
  std::map<std::string, Market> markets;
  Consensus consensus;
  std::vector<Node> nodes;              // exchanges, validators, agents, then proxy and monitor
  std::vector<Disruption> disruptions;  // by start time
  Monitoring monitoring;
  std::string proxy_id;    // empty when the proxy is disabled
  std::string monitor_id;  // empty when monitoring is disabled

  const Topology& topology() const { return topologies.at(active_topology); }
  const Node* find_node(std::string_view id) const;
  std::vector<const Node*> nodes_with_role(Role role) const;
  // The symbols an exchange lists, over all its markets.
  std::vector<const Symbol*> symbols_of(const Node& exchange) const;
};

// One problem found in a file: where, what path inside the document, and what was expected.
struct Diagnostic {
  std::string file;
  int line = 0;      // 1-based; 0 when the problem has no place (an empty file)
  std::string path;  // "agents[2].strategy"
  std::string message;
  std::string to_string() const;  // "default.yaml:14: agents[2].strategy: unknown strategy ..."
};

struct LoadError {
  std::vector<Diagnostic> diagnostics;  // at most errors_reported_max, in file order
  std::string to_string() const;        // one per line
};

// Parses and validates a scenario from YAML text. `file` names it in diagnostics. `topology`
// overrides the file's network.topology choice when not empty. Never throws.
std::expected<Scenario, LoadError> parse(std::string_view yaml_text, std::string_view file,
                                         std::string_view topology = {});

}  // namespace mkt::scenario
