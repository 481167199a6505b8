// marketctl status: a table of the market's nodes, their health and rates, and the Raft leader.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli.h"
#include "client.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/agents/setup.h"
#include "mkt/core/enum_table.h"
#include "mkt/runtime/http_client.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace lpb = market::ledger::v1;
namespace npb = market::netcontrol::v1;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// One look at a node: what its probe answered.
struct Sample {
  bool answered = false;
  lpb::ClusterStatus cluster;  // validators
  double orders = 0;           // exchanges: commands carried out
  double trades = 0;           // exchanges
  double unsettled = 0;        // exchanges: trades not yet settled
  double fills = 0;            // agents
  double pnl_cents = 0;        // agents
  double live_orders = 0;      // agents
  std::size_t partitions = 0;  // proxy
  std::size_t links = 0;       // proxy
  double alerts = 0;           // monitor
};

std::expected<std::string, std::string> metrics_of(const runtime::NodeRecord& node) {
  return runtime::http_get("127.0.0.1", node.port("metrics"), "/metrics", 1s);
}

Sample probe(const Market& market, const runtime::NodeRecord& node) {
  Sample sample;
  if (node.role == "validator") {
    auto stub = lpb::Ledger::NewStub(market.channel(node));
    grpc::ClientContext context;
    context.set_deadline(deadline_in(1s));
    sample.answered = stub->GetClusterStatus(&context, {}, &sample.cluster).ok();
  } else if (node.role == "exchange") {
    if (auto text = metrics_of(node)) {
      sample.answered = true;
      sample.orders = metric_sum(*text, "exchange_commands_total");
      sample.trades = metric_sum(*text, "exchange_trades_total");
      sample.unsettled = metric_sum(*text, "exchange_settlement_unsettled_trades");
    }
  } else if (node.role == "agent") {
    if (auto text = metrics_of(node)) {
      sample.answered = true;
      sample.orders = metric_sum(*text, "agent_orders_sent_total");
      sample.fills = metric_sum(*text, "agent_fills_total");
      sample.pnl_cents = metric_sum(*text, "agent_pnl_cents");
      sample.live_orders = metric_sum(*text, "agent_live_orders");
    }
  } else if (node.role == "monitor") {
    if (auto text = metrics_of(node)) {
      sample.answered = true;
      sample.alerts = metric_sum(*text, "monitor_alerts_active");
    }
  } else if (node.role == "proxy") {
    auto stub = npb::NetControl::NewStub(market.channel(node, "control"));
    grpc::ClientContext context;
    context.set_deadline(deadline_in(1s));
    npb::ListPartitionsResponse partitions;
    npb::ListLinksResponse links;
    sample.answered = stub->ListPartitions(&context, {}, &partitions).ok();
    grpc::ClientContext context2;
    context2.set_deadline(deadline_in(1s));
    if (sample.answered && stub->ListLinks(&context2, {}, &links).ok()) {
      sample.partitions = static_cast<std::size_t>(partitions.partitions_size());
      sample.links = static_cast<std::size_t>(links.links_size());
    }
  }
  return sample;
}

constexpr auto raft_role_names = core::enum_table<lpb::ValidatorStatus::Role, std::string_view>(
    {{lpb::ValidatorStatus::ROLE_LEADER, "leader"},
     {lpb::ValidatorStatus::ROLE_FOLLOWER, "follower"},
     {lpb::ValidatorStatus::ROLE_CANDIDATE, "candidate"},
     {lpb::ValidatorStatus::ROLE_PRE_CANDIDATE, "pre-candidate"}});

std::string raft_role(const lpb::ClusterStatus& status, const std::string& self) {
  for (const auto& v : status.validators()) {
    if (v.node_id() != self) continue;
    if (const auto name = raft_role_names.second_of(v.role())) return std::string(*name);
  }
  return status.leader_id() == self ? "leader" : "follower";
}

void print_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size())
      line += std::string(widths[i] + 2 - std::min(widths[i], cells[i].size()), ' ');
  }
  std::cout << line << "\n";
}

using Table = std::vector<std::vector<std::string>>;

void print_table(const Table& rows) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) print_row(row, widths);
}

std::string state_text(const runtime::NodeRecord& node) {
  std::string state(to_string(node.state));
  if (node.state == runtime::NodeState::exited || node.state == runtime::NodeState::killed) {
    state += " (" + std::to_string(node.exit) + ")";
  }
  if (node.restarts != 0) state += ", " + std::to_string(node.restarts) + " restarts";
  return state;
}

// What a node did between two looks `seconds` apart, by its role.
std::string rates_text(const runtime::NodeRecord& node, const Sample& a, const Sample& b,
                       double seconds) {
  const auto rate = [&](double x, double y) {
    return fixed(a.answered ? (y - x) / seconds : 0, 1);
  };
  if (!b.answered) return {};
  if (node.role == "validator") {
    const auto commits = rate(static_cast<double>(a.cluster.commit_index()),
                              static_cast<double>(b.cluster.commit_index()));
    return "commit " + std::to_string(b.cluster.commit_index()) + ", " + commits + " entries/s, " +
           std::to_string(b.cluster.trades_applied()) + " trades settled";
  }
  if (node.role == "exchange") {
    return rate(a.orders, b.orders) + " orders/s, " + rate(a.trades, b.trades) + " trades/s, " +
           fixed(b.trades, 0) + " trades, " + fixed(b.unsettled, 0) + " unsettled";
  }
  if (node.role == "agent") {
    return rate(a.orders, b.orders) + " orders/s, " + fixed(b.fills, 0) + " fills, " +
           fixed(b.live_orders, 0) + " live, pnl " + fixed(b.pnl_cents / 100, 2);
  }
  if (node.role == "proxy") {
    return std::to_string(b.links) + " links, " + std::to_string(b.partitions) + " partitions";
  }
  if (node.role == "monitor") return fixed(b.alerts, 0) + " alerts active";
  return {};
}

// The process: its pid, or its container's short id.
std::string process_text(const Market& market, const runtime::NodeRecord& node) {
  if (const auto it = market.containers.find(node.id); it != market.containers.end()) {
    return it->second.substr(0, 12);
  }
  return node.pid > 0 ? std::to_string(node.pid) : "-";
}

std::vector<std::string> row_of(const Market& market, const runtime::NodeRecord& node,
                                const Sample& a, const Sample& b, double seconds) {
  const std::string health = node.state != runtime::NodeState::running ? "-"
                             : b.answered                              ? "ok"
                                                                       : "no answer";
  std::string raft = "-";
  if (b.answered && node.role == "validator") {
    raft = raft_role(b.cluster, node.id) + ", term " + std::to_string(b.cluster.term());
  }
  return {node.id,
          node.role,
          state_text(node),
          process_text(market, node),
          health,
          raft,
          rates_text(node, a, b, seconds)};
}

// The newest term's view of a validator that knows a leader, or null.
const lpb::ClusterStatus* leader_view_of(const std::vector<runtime::NodeRecord>& nodes,
                                         const std::vector<Sample>& samples) {
  const lpb::ClusterStatus* view = nullptr;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& cluster = samples[i].cluster;
    if (!samples[i].answered || nodes[i].role != "validator" || cluster.leader_id().empty()) {
      continue;
    }
    if (!view || cluster.term() > view->term()) view = &cluster;
  }
  return view;
}

}  // namespace

int status_command(int argc, char** argv) {
  po::options_description options("status options");
  options.add_options()("interval", po::value<int>()->default_value(1000),
                        "milliseconds between the two looks that rates are measured over");
  const auto vm = parse_command(argc, argv,
                                "Usage: marketctl status [--run DIR | --compose P]\n\n"
                                "A table of the market's nodes: role, process, health, Raft role "
                                "and rates (measured\nover --interval), then the Raft leader.\n",
                                options, {});
  if (!vm) return vm.error();
  auto market = open_market(*vm);
  if (!market) return fail("status", market.error());
  const auto& nodes = market->state.nodes;
  const auto look = [&] {
    std::vector<Sample> samples;
    for (const auto& node : nodes) {
      samples.push_back(node.state == runtime::NodeState::running ? probe(*market, node)
                                                                  : Sample{});
    }
    return samples;
  };
  const auto first_at = Clock::now();
  const auto first = look();
  std::this_thread::sleep_for(std::chrono::milliseconds((*vm)["interval"].as<int>()));
  const auto second = look();
  const double seconds = std::chrono::duration<double>(Clock::now() - first_at).count();

  if (market->compose.empty()) {
    std::cout << "market " << market->state.scenario << " in " << (*vm)["run"].as<std::string>()
              << ": " << market->state.phase << " (supervisor pid " << market->state.supervisor
              << ")\n";
  } else {
    std::cout << "market " << market->state.scenario << " in compose " << market->compose << ": "
              << market->containers.size() << " containers on network " << market->network << "\n";
  }
  Table rows{{"NODE", "ROLE", "STATE", "PROCESS", "HEALTH", "RAFT", "RATES"}};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    rows.push_back(row_of(*market, nodes[i], first[i], second[i], seconds));
  }
  // Agents the supervisor did not start: a strategy agentd lacks, or `up --no-agents`.
  for (const auto* node : market->scenario.nodes_with_role(scenario::Role::agent)) {
    if (market->state.find(node->id) != nullptr) continue;
    const auto supported = agents::strategy_supported(node->agent->strategy);
    rows.push_back({node->id, "agent", "not started", "-", "-", "-",
                    supported ? "up --no-agents" : supported.error()});
  }
  print_table(rows);
  if (const auto* leader = leader_view_of(nodes, second)) {
    std::cout << "leader: " << leader->leader_id() << " (term " << leader->term()
              << "), commit index " << leader->commit_index() << "\n";
  } else if (!market->scenario.nodes_with_role(scenario::Role::validator).empty()) {
    std::cout << "leader: none (no validator that answered knows a leader)\n";
  }
  return 0;
}

}  // namespace mkt::marketctl
