// Looking at a running market and changing its network: status, partition, heal, link.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <thread>

#include "cli.h"
#include "client.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/agents/setup.h"
#include "mkt/core/enum_table.h"
#include "mkt/runtime/http_client.h"
#include "units.h"

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

std::string raft_role(const lpb::ClusterStatus& status, const std::string& self) {
  for (const auto& v : status.validators()) {
    if (v.node_id() != self) continue;
    switch (v.role()) {
      case lpb::ValidatorStatus::ROLE_LEADER:
        return "leader";
      case lpb::ValidatorStatus::ROLE_FOLLOWER:
        return "follower";
      case lpb::ValidatorStatus::ROLE_CANDIDATE:
        return "candidate";
      case lpb::ValidatorStatus::ROLE_PRE_CANDIDATE:
        return "pre-candidate";
      default:
        break;
    }
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

// The running market's proxy control API, or the exit code after saying why there is none.
std::expected<std::unique_ptr<npb::NetControl::Stub>, int> netcontrol(
    const po::variables_map& flags, const std::string& command) {
  auto market = open_market(flags["run"].as<std::string>());
  if (!market) return std::unexpected(fail(command, market.error()));
  for (const auto& node : market->state.nodes) {
    if (node.role != "proxy") continue;
    auto running = market->running(node.id);
    if (!running) return std::unexpected(fail(command, running.error()));
    return npb::NetControl::NewStub(market->channel(**running, "control"));
  }
  return std::unexpected(fail(command,
                              "this scenario has no proxy (proxy: {enabled: false}), so its "
                              "network cannot be changed"));
}

}  // namespace

int status_command(int argc, char** argv) {
  po::options_description options("status options");
  options.add_options()("interval", po::value<int>()->default_value(1000),
                        "milliseconds between the two looks that rates are measured over");
  const auto vm = parse_command(argc, argv,
                                "Usage: marketctl status [--run DIR]\n\n"
                                "A table of the market's nodes: role, process, health, Raft role "
                                "and rates (measured\nover --interval), then the Raft leader.\n",
                                options, {});
  if (!vm) return vm.error();
  auto market = open_market((*vm)["run"].as<std::string>());
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

  std::cout << "market " << market->state.scenario << " in " << (*vm)["run"].as<std::string>()
            << ": " << market->state.phase << " (supervisor pid " << market->state.supervisor
            << ")\n";
  const std::vector<std::string> header{"NODE", "ROLE", "STATE", "PID", "HEALTH", "RAFT", "RATES"};
  std::vector<std::vector<std::string>> rows{header};
  const lpb::ClusterStatus* leader_view = nullptr;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& node = nodes[i];
    const auto& a = first[i];
    const auto& b = second[i];
    std::string state(to_string(node.state));
    if (node.state == runtime::NodeState::exited || node.state == runtime::NodeState::killed) {
      state += " (" + std::to_string(node.exit) + ")";
    }
    if (node.restarts != 0) state += ", " + std::to_string(node.restarts) + " restarts";
    std::string health = node.state != runtime::NodeState::running ? "-"
                         : b.answered                              ? "ok"
                                                                   : "no answer";
    std::string raft = "-";
    std::string rates;
    if (b.answered && node.role == "validator") {
      raft = raft_role(b.cluster, node.id) + ", term " + std::to_string(b.cluster.term());
      const double commits =
          a.answered
              ? static_cast<double>(b.cluster.commit_index() - a.cluster.commit_index()) / seconds
              : 0;
      rates = "commit " + std::to_string(b.cluster.commit_index()) + ", " + fixed(commits, 1) +
              " entries/s, " + std::to_string(b.cluster.trades_applied()) + " trades settled";
      if (!b.cluster.leader_id().empty() &&
          (!leader_view || b.cluster.term() > leader_view->term())) {
        leader_view = &b.cluster;
      }
    } else if (b.answered && node.role == "exchange") {
      const auto rate = [&](double x, double y) {
        return fixed(a.answered ? (y - x) / seconds : 0, 1);
      };
      rates = rate(a.orders, b.orders) + " orders/s, " + rate(a.trades, b.trades) + " trades/s, " +
              fixed(b.trades, 0) + " trades, " + fixed(b.unsettled, 0) + " unsettled";
    } else if (b.answered && node.role == "agent") {
      rates = fixed(a.answered ? (b.orders - a.orders) / seconds : 0, 1) + " orders/s, " +
              fixed(b.fills, 0) + " fills, " + fixed(b.live_orders, 0) + " live, pnl " +
              fixed(b.pnl_cents / 100, 2);
    } else if (b.answered && node.role == "proxy") {
      rates = std::to_string(b.links) + " links, " + std::to_string(b.partitions) + " partitions";
    }
    rows.push_back({node.id, node.role, state, node.pid > 0 ? std::to_string(node.pid) : "-",
                    health, raft, rates});
  }
  // Agents the supervisor did not start: a strategy agentd lacks, or `up --no-agents`.
  for (const auto* node : market->scenario.nodes_with_role(scenario::Role::agent)) {
    if (market->state.find(node->id) != nullptr) continue;
    const auto supported = agents::strategy_supported(node->agent->strategy);
    rows.push_back({node->id, "agent", "not started", "-", "-", "-",
                    supported ? "up --no-agents" : supported.error()});
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) print_row(row, widths);
  if (leader_view) {
    std::cout << "leader: " << leader_view->leader_id() << " (term " << leader_view->term()
              << "), commit index " << leader_view->commit_index() << "\n";
  } else if (!market->scenario.nodes_with_role(scenario::Role::validator).empty()) {
    std::cout << "leader: none (no validator that answered knows a leader)\n";
  }
  return 0;
}

int partition_command(int argc, char** argv) {
  po::options_description options("partition options");
  // clang-format off
  options.add_options()
      ("nodes", po::value<std::vector<std::string>>()->multitoken(),
       "the nodes to cut off (isolate), or one side of the cut with --from")
      ("from", po::value<std::vector<std::string>>()->multitoken(),
       "the other side: only these lose contact with <nodes>")
      ("shape", po::value<std::string>()->default_value(""),
       "a named shape instead: halves, bridge, majorities-ring (over <nodes>, default all) or "
       "region (with --region)")
      ("region", po::value<std::string>()->default_value(""), "the region, for --shape region")
      ("mode", po::value<std::string>()->default_value("blackhole"),
       "blackhole: bytes are held until the heal; reset: connections are reset and refused")
      ("one-way", "cut only the traffic from <nodes> to the rest")
      ("for", po::value<std::string>()->default_value(""),
       "heal by itself after this long (as in 30s); default: until `marketctl heal`")
      ("seed", po::value<std::uint64_t>()->default_value(1), "seed of the halves and bridge shapes");
  // clang-format on
  po::positional_options_description positional;
  positional.add("nodes", -1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl partition <nodes...> [--from <nodes...>] [options]\n"
      "       marketctl partition --shape halves|bridge|majorities-ring [<nodes...>]\n"
      "       marketctl partition --shape region --region <name>\n\n"
      "Cuts the network through the proxy: <nodes> against everyone else, or against --from "
      "only.\nPrints the partition's id; `marketctl heal [id]` ends it.\n",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  npb::CreatePartitionRequest request;
  const auto nodes = flags.count("nodes") ? flags["nodes"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  const auto shape = flags["shape"].as<std::string>();
  if (shape.empty()) {
    if (nodes.empty()) {
      return fail("partition", "name the nodes to cut off, or a --shape", 2);
    }
    if (flags.count("from")) {
      request.set_shape(npb::PARTITION_SHAPE_UNSPECIFIED);
      for (const auto& group : {nodes, flags["from"].as<std::vector<std::string>>()}) {
        auto* g = request.add_groups();
        for (const auto& n : group) g->add_nodes(n);
      }
    } else {
      request.set_shape(npb::PARTITION_SHAPE_ISOLATE);
      for (const auto& n : nodes) request.add_nodes(n);
    }
  } else {
    static const std::map<std::string, npb::PartitionShape> shapes{
        {"halves", npb::PARTITION_SHAPE_HALVES},
        {"bridge", npb::PARTITION_SHAPE_BRIDGE},
        {"majorities-ring", npb::PARTITION_SHAPE_MAJORITIES_RING},
        {"region", npb::PARTITION_SHAPE_REGION},
        {"isolate", npb::PARTITION_SHAPE_ISOLATE}};
    auto it = shapes.find(shape);
    if (it == shapes.end()) {
      return fail(
          "partition",
          "unknown --shape '" + shape + "' (isolate, halves, bridge, majorities-ring or region)",
          2);
    }
    if (flags.count("from")) {
      return fail("partition", "--from goes with explicit nodes, not a --shape", 2);
    }
    request.set_shape(it->second);
    for (const auto& n : nodes) request.add_nodes(n);
    request.set_region(flags["region"].as<std::string>());
  }
  const auto mode = flags["mode"].as<std::string>();
  if (mode != "blackhole" && mode != "reset") {
    return fail("partition", "--mode must be blackhole or reset, not '" + mode + "'", 2);
  }
  request.set_mode(mode == "reset" ? npb::PARTITION_MODE_RESET : npb::PARTITION_MODE_BLACKHOLE);
  request.set_one_way(flags.count("one-way") != 0);
  request.set_seed(flags["seed"].as<std::uint64_t>());
  if (const auto length = flags["for"].as<std::string>(); !length.empty()) {
    auto us = parse_duration_us(length);
    if (!us) {
      return fail("partition", "--for: " + us.error(), 2);
    }
    request.set_duration_ms(*us / 1000);
  }
  auto stub = netcontrol(flags, "partition");
  if (!stub) return stub.error();
  grpc::ClientContext context;
  context.set_deadline(deadline_in(5s));
  npb::Partition partition;
  if (auto status = (*stub)->CreatePartition(&context, request, &partition); !status.ok()) {
    return fail("partition", rpc_error(status));
  }
  std::cout << "partition " << partition.id() << ": " << partition.cut_links_size()
            << " directed links cut (" << mode << (request.one_way() ? ", one way" : "") << ")";
  if (request.duration_ms() != 0)
    std::cout << ", heals by itself in " << flags["for"].as<std::string>();
  std::cout << "\n";
  return 0;
}

int heal_command(int argc, char** argv) {
  po::options_description options("heal options");
  options.add_options()("id", po::value<std::string>()->default_value(""),
                        "the partition to heal (default: every one)");
  po::positional_options_description positional;
  positional.add("id", 1);
  const auto vm = parse_command(argc, argv,
                                "Usage: marketctl heal [<partition id>] [--run DIR]\n\n"
                                "Ends one partition, or every one. Held bytes are delivered.\n",
                                options, positional);
  if (!vm) return vm.error();
  auto stub = netcontrol(*vm, "heal");
  if (!stub) return stub.error();
  grpc::ClientContext context;
  context.set_deadline(deadline_in(5s));
  npb::HealPartitionRequest request;
  request.set_id((*vm)["id"].as<std::string>());
  npb::HealPartitionResponse response;
  if (auto status = (*stub)->HealPartition(&context, request, &response); !status.ok()) {
    return fail("heal", rpc_error(status));
  }
  std::cout << "healed " << response.healed() << " partition" << (response.healed() == 1 ? "" : "s")
            << "\n";
  return 0;
}

namespace {

std::string describe_link(const npb::Link& link) {
  const auto& p = link.params();
  std::string out = link.source() + " -> " + link.destination() + ": latency " +
                    format_duration_us(p.latency_us());
  if (p.jitter_us() != 0) out += ", jitter " + format_duration_us(p.jitter_us());
  if (p.loss().has_gilbert_elliott()) {
    out += ", bursty loss";
  } else {
    out += ", loss " + format_ppm_percent(p.loss().bernoulli_ppm());
  }
  out += ", bandwidth " + format_bandwidth_bps(p.bandwidth_bps());
  if (link.overridden()) out += " (set by hand)";
  if (link.partitioned()) out += " (partitioned)";
  std::string route;
  for (const auto& hop : link.route()) route += (route.empty() ? "" : " > ") + hop;
  if (!route.empty()) out += "; route " + route;
  return out;
}

}  // namespace

int link_command(int argc, char** argv) {
  po::options_description options("link options");
  // clang-format off
  options.add_options()
      ("action", po::value<std::string>()->required(), "set, show or reset")
      ("source", po::value<std::string>()->default_value(""), "the link's source node")
      ("destination", po::value<std::string>()->default_value(""), "the link's destination node")
      ("latency", po::value<std::string>(), "one-way delay, as in 50ms")
      ("jitter", po::value<std::string>(), "spread of the delay, as in 5ms")
      ("distribution", po::value<std::string>(),
       "of the jitter: uniform, normal (default with --jitter), exponential or pareto")
      ("loss", po::value<std::string>(), "segment loss, as in 1% or 0.01")
      ("bandwidth", po::value<std::string>(), "a rate cap, as in 1mbit or 512kbit; 0 removes it")
      ("both", "set destination -> source the same way");
  // clang-format on
  po::positional_options_description positional;
  positional.add("action", 1).add("source", 1).add("destination", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl link set <src> <dst> [--latency 50ms] [--jitter 5ms] [--loss 1%] "
      "[--bandwidth 1mbit] [--both]\n"
      "       marketctl link show [<src> [<dst>]]\n"
      "       marketctl link reset\n\n"
      "Changes or shows the links the proxy applies between two nodes. `set` changes only what "
      "it\nis given and keeps the rest of the link as it is; `reset` puts every link back to "
      "the\nscenario's and heals every partition.\n",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  const auto action = flags["action"].as<std::string>();
  const auto source = flags["source"].as<std::string>();
  const auto destination = flags["destination"].as<std::string>();
  if (action != "set" && action != "show" && action != "reset") {
    return fail("link", "unknown action '" + action + "' (set, show or reset)", 2);
  }
  if (action == "set" && (source.empty() || destination.empty())) {
    return fail("link set", "name the source and the destination nodes", 2);
  }
  npb::LinkParams changes;
  if (action == "set") {
    const auto parse = [&](const char* flag, auto parser, auto apply) {
      if (!flags.count(flag)) return true;
      auto value = parser(flags[flag].as<std::string>());
      if (!value) {
        fail("link set", "--" + std::string(flag) + ": " + value.error());
        return false;
      }
      apply(*value);
      return true;
    };
    const bool ok =
        parse("latency", parse_duration_us, [&](std::int64_t v) { changes.set_latency_us(v); }) &&
        parse("jitter", parse_duration_us, [&](std::int64_t v) { changes.set_jitter_us(v); }) &&
        parse("loss", parse_probability_ppm,
              [&](std::uint32_t v) { changes.mutable_loss()->set_bernoulli_ppm(v); }) &&
        parse(
            "bandwidth",
            [](const std::string& text) -> std::expected<std::int64_t, std::string> {
              if (text == "0") return 0;
              return parse_bandwidth_bps(text);
            },
            [&](std::int64_t v) { changes.set_bandwidth_bps(v); });
    if (!ok) return 2;
    if (flags.count("distribution")) {
      constexpr auto kinds = core::enum_table<npb::Distribution, std::string_view>(
          {{npb::DISTRIBUTION_UNIFORM, "uniform"},
           {npb::DISTRIBUTION_NORMAL, "normal"},
           {npb::DISTRIBUTION_EXPONENTIAL, "exponential"},
           {npb::DISTRIBUTION_PARETO, "pareto"}});
      const auto kind = kinds.first_of(flags["distribution"].as<std::string>());
      if (!kind) {
        return fail("link set", "--distribution must be uniform, normal, exponential or pareto", 2);
      }
      changes.set_jitter_distribution(*kind);
    }
  }
  auto stub = netcontrol(flags, "link");
  if (!stub) return stub.error();
  const auto call_context = [] {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(deadline_in(5s));
    return context;
  };
  if (action == "reset") {
    npb::ResetAllResponse response;
    if (auto status = (*stub)->ResetAll(call_context().get(), {}, &response); !status.ok()) {
      return fail("link reset", rpc_error(status));
    }
    std::cout << "every link is back to the scenario's, and every partition is healed\n";
    return 0;
  }
  npb::ListLinksResponse links;
  if (auto status = (*stub)->ListLinks(call_context().get(), {}, &links); !status.ok()) {
    return fail("link", rpc_error(status));
  }
  if (action == "show") {
    std::size_t shown = 0;
    for (const auto& link : links.links()) {
      if ((!source.empty() && link.source() != source) ||
          (!destination.empty() && link.destination() != destination)) {
        continue;
      }
      std::cout << describe_link(link) << "\n";
      ++shown;
    }
    if (shown == 0) {
      return fail("link show", "no link matches (the proxy knows " +
                                   std::to_string(links.links_size()) + " links)");
    }
    return 0;
  }
  const npb::Link* current = nullptr;
  for (const auto& link : links.links()) {
    if (link.source() == source && link.destination() == destination) current = &link;
  }
  if (!current) {
    return fail("link set", "the proxy has no link " + source + " -> " + destination +
                                " (both must be nodes of the scenario; `marketctl link show` "
                                "lists them)");
  }
  npb::SetLinkRequest request;
  request.set_source(source);
  request.set_destination(destination);
  request.set_both_directions(flags.count("both") != 0);
  auto* params = request.mutable_params();
  *params = current->params();
  if (flags.count("latency")) params->set_latency_us(changes.latency_us());
  if (flags.count("jitter")) {
    params->set_jitter_us(changes.jitter_us());
    if (params->jitter_distribution() == npb::DISTRIBUTION_UNSPECIFIED) {
      params->set_jitter_distribution(npb::DISTRIBUTION_NORMAL);
    }
  }
  if (flags.count("distribution")) params->set_jitter_distribution(changes.jitter_distribution());
  if (flags.count("loss")) *params->mutable_loss() = changes.loss();  // replaces a bursty model
  if (flags.count("bandwidth")) params->set_bandwidth_bps(changes.bandwidth_bps());
  npb::Link updated;
  if (auto status = (*stub)->SetLink(call_context().get(), request, &updated); !status.ok()) {
    return fail("link set", rpc_error(status));
  }
  std::cout << describe_link(updated) << (request.both_directions() ? " (and back)" : "") << "\n";
  return 0;
}

}  // namespace mkt::marketctl
