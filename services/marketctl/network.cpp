// Changing a running market's network through its proxy: partition, heal, link.
#include <grpcpp/grpcpp.h>

#include <iostream>

#include "cli.h"
#include "client.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/core/enum_table.h"
#include "units.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace npb = market::netcontrol::v1;
using namespace std::chrono_literals;

// The running market's proxy control API, and the operator's key that changes it.
struct NetControl {
  std::unique_ptr<npb::NetControl::Stub> stub;
  std::string key;

  npb::NetControl::Stub* operator->() const { return stub.get(); }
  // A client context with the operator's deadline and key.
  std::unique_ptr<grpc::ClientContext> context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(deadline_in(5s));
    context->AddMetadata(runtime::api_key_metadata, key);
    return context;
  }
};

// The running market's NetControl, or the exit code after saying why there is none.
std::expected<NetControl, int> netcontrol(const po::variables_map& flags,
                                          const std::string& command) {
  auto market = open_market(flags);
  if (!market) return std::unexpected(fail(command, market.error()));
  for (const auto& node : market->state.nodes) {
    if (node.role != "proxy") continue;
    auto running = market->running(node.id);
    if (!running) return std::unexpected(fail(command, running.error()));
    auto key = api_key(*market, runtime::operator_account);
    if (!key) return std::unexpected(fail(command, key.error()));
    return NetControl{npb::NetControl::NewStub(market->channel(**running, "control")),
                      std::move(*key)};
  }
  return std::unexpected(fail(command,
                              "this scenario has no proxy (proxy: {enabled: false}), so its "
                              "network cannot be changed"));
}

constexpr auto shape_names = core::enum_table<npb::PartitionShape, std::string_view>(
    {{npb::PARTITION_SHAPE_HALVES, "halves"},
     {npb::PARTITION_SHAPE_BRIDGE, "bridge"},
     {npb::PARTITION_SHAPE_MAJORITIES_RING, "majorities-ring"},
     {npb::PARTITION_SHAPE_REGION, "region"},
     {npb::PARTITION_SHAPE_ISOLATE, "isolate"}});

// The request the flags describe, or the exit code after saying what is wrong.
std::expected<npb::CreatePartitionRequest, int> partition_request(const po::variables_map& flags) {
  npb::CreatePartitionRequest request;
  const auto nodes = flags.count("nodes") ? flags["nodes"].as<std::vector<std::string>>()
                                          : std::vector<std::string>{};
  const auto shape = flags["shape"].as<std::string>();
  if (shape.empty()) {
    if (nodes.empty()) {
      return std::unexpected(fail("partition", "name the nodes to cut off, or a --shape", 2));
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
    const auto named = shape_names.first_of(shape);
    if (!named) {
      return std::unexpected(fail(
          "partition",
          "unknown --shape '" + shape + "' (isolate, halves, bridge, majorities-ring or region)",
          2));
    }
    if (flags.count("from")) {
      return std::unexpected(
          fail("partition", "--from goes with explicit nodes, not a --shape", 2));
    }
    request.set_shape(*named);
    for (const auto& n : nodes) request.add_nodes(n);
    request.set_region(flags["region"].as<std::string>());
  }
  const auto mode = flags["mode"].as<std::string>();
  if (mode != "blackhole" && mode != "reset") {
    return std::unexpected(
        fail("partition", "--mode must be blackhole or reset, not '" + mode + "'", 2));
  }
  request.set_mode(mode == "reset" ? npb::PARTITION_MODE_RESET : npb::PARTITION_MODE_BLACKHOLE);
  request.set_one_way(flags.count("one-way") != 0);
  request.set_seed(flags["seed"].as<std::uint64_t>());
  if (const auto length = flags["for"].as<std::string>(); !length.empty()) {
    auto us = parse_duration_us(length);
    if (!us) {
      return std::unexpected(fail("partition", "--for: " + us.error(), 2));
    }
    request.set_duration_ms(*us / 1000);
  }
  return request;
}

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

// The link parameters the flags of `link set` give (the others are left as they are).
std::expected<npb::LinkParams, int> link_changes(const po::variables_map& flags) {
  npb::LinkParams changes;
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
  if (!ok) return std::unexpected(2);
  if (flags.count("distribution")) {
    constexpr auto kinds = core::enum_table<npb::Distribution, std::string_view>(
        {{npb::DISTRIBUTION_UNIFORM, "uniform"},
         {npb::DISTRIBUTION_NORMAL, "normal"},
         {npb::DISTRIBUTION_EXPONENTIAL, "exponential"},
         {npb::DISTRIBUTION_PARETO, "pareto"}});
    const auto kind = kinds.first_of(flags["distribution"].as<std::string>());
    if (!kind) {
      return std::unexpected(
          fail("link set", "--distribution must be uniform, normal, exponential or pareto", 2));
    }
    changes.set_jitter_distribution(*kind);
  }
  return changes;
}

int show_links(const npb::ListLinksResponse& links, const std::string& source,
               const std::string& destination) {
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

// Sets the link to its current parameters with `changes` in place of those the flags name.
int set_link(const NetControl& control, const po::variables_map& flags,
             const npb::ListLinksResponse& links, const npb::LinkParams& changes) {
  const auto source = flags["source"].as<std::string>();
  const auto destination = flags["destination"].as<std::string>();
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
  if (auto status = control->SetLink(control.context().get(), request, &updated); !status.ok()) {
    return fail("link set", rpc_error(status));
  }
  std::cout << describe_link(updated) << (request.both_directions() ? " (and back)" : "") << "\n";
  return 0;
}

}  // namespace

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
  const auto request = partition_request(flags);
  if (!request) return request.error();
  auto control = netcontrol(flags, "partition");
  if (!control) return control.error();
  npb::Partition partition;
  if (auto status = (*control)->CreatePartition(control->context().get(), *request, &partition);
      !status.ok()) {
    return fail("partition", rpc_error(status));
  }
  std::cout << "partition " << partition.id() << ": " << partition.cut_links_size()
            << " directed links cut (" << flags["mode"].as<std::string>()
            << (request->one_way() ? ", one way" : "") << ")";
  if (request->duration_ms() != 0)
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
  auto control = netcontrol(*vm, "heal");
  if (!control) return control.error();
  npb::HealPartitionRequest request;
  request.set_id((*vm)["id"].as<std::string>());
  npb::HealPartitionResponse response;
  if (auto status = (*control)->HealPartition(control->context().get(), request, &response);
      !status.ok()) {
    return fail("heal", rpc_error(status));
  }
  std::cout << "healed " << response.healed() << " partition" << (response.healed() == 1 ? "" : "s")
            << "\n";
  return 0;
}

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
    auto parsed = link_changes(flags);
    if (!parsed) return parsed.error();
    changes = std::move(*parsed);
  }
  auto control = netcontrol(flags, "link");
  if (!control) return control.error();
  if (action == "reset") {
    npb::ResetAllResponse response;
    if (auto status = (*control)->ResetAll(control->context().get(), {}, &response); !status.ok()) {
      return fail("link reset", rpc_error(status));
    }
    std::cout << "every link is back to the scenario's, and every partition is healed\n";
    return 0;
  }
  npb::ListLinksResponse links;
  if (auto status = (*control)->ListLinks(control->context().get(), {}, &links); !status.ok()) {
    return fail("link", rpc_error(status));
  }
  if (action == "show") return show_links(links, source, destination);
  return set_link(*control, flags, links, changes);
}

}  // namespace mkt::marketctl
