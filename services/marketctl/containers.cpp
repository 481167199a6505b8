// Containers: `compose` writes a scenario's compose file, `prepare` writes a compose market's
// shared volume (its setup service runs it), `probe` is every container's health check.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <iostream>

#include "cli.h"
#include "client.h"
#include "compose.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/runtime/address.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/options.h"
#include "mkt/runtime/tls.h"
#include "plan.h"
#include "prometheus.h"
#include "run_setup.h"
#include "units.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;
namespace hpb = grpc::health::v1;
namespace lpb = market::ledger::v1;
using namespace std::chrono_literals;

// `path` as seen from `from` (a folder): "./"-prefixed when it is below it, absolute otherwise.
std::string relative_to(const fs::path& path, const fs::path& from) {
  const auto absolute = fs::absolute(path).lexically_normal();
  const auto text = absolute.lexically_relative(fs::absolute(from).lexically_normal()).string();
  if (text.empty() || text.starts_with("..")) return absolute.string();
  return text == "." ? text : "./" + text;
}

// The folder of the Dockerfile the image is built from: the first above the scenario that has one
// (deploy/scenarios/x.yaml -> the repository), else the compose file's own folder.
fs::path build_context_of(const fs::path& scenario, const fs::path& out_dir) {
  for (auto dir = fs::absolute(scenario).parent_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "Dockerfile")) return dir;
    if (dir == dir.root_path()) break;
  }
  return out_dir;
}

// What every node of a compose or swarm market shares: API keys, ledger keys, the nodes' addresses
// by service name, the epoch, and with `tls` the certificates. Keeps the keys, certificates and
// epoch of an earlier run.
std::expected<std::string, std::string> prepare_market(const scenario::Scenario& scenario,
                                                       const runtime::RunPaths& run, bool tls) {
  std::error_code ec;
  fs::create_directories(run.dir, ec);
  if (ec) return std::unexpected("cannot create " + run.dir.string() + ": " + ec.message());
  if (auto ok = write_credentials(run, scenario, tls); !ok) return std::unexpected(ok.error());
  const auto epoch = market_epoch(run);
  if (!epoch) return std::unexpected(epoch.error());
  std::string text;
  const auto addresses = container_addresses(scenario);
  for (const auto& [node, address] : addresses) text += node + " " + address + "\n";
  if (auto ok = runtime::write_file_atomically(run.addresses().string(), text); !ok) {
    return std::unexpected(ok.error());
  }
  const auto scrape = prometheus_config(scenario, compose_metrics_targets(scenario),
                                        "marketctl prepare (the compose market's setup)");
  if (auto ok = runtime::write_file_atomically((run.dir / prometheus_file).string(), scrape); !ok) {
    return std::unexpected(ok.error());
  }
  return "prepared " + run.dir.string() + ": accounts, ledger and validator keys, " +
         (tls ? "TLS certificates, " : "") + std::to_string(addresses.size()) +
         " addresses, epoch " + std::to_string(*epoch) + ", " + prometheus_file;
}

}  // namespace

int compose_command(int argc, char** argv) {
  po::options_description options("compose options");
  // clang-format off
  options.add_options()
      ("scenario", po::value<std::string>()->required(), "the scenario file")
      ("output,o", po::value<std::string>()->default_value("-"),
       "where to write the compose file (-: standard output)")
      ("base-port", po::value<int>()->default_value(7000),
       "publish the nodes' ports on the host from this one up, in start order (0: ports the "
       "engine picks, on 127.0.0.1 only)")
      ("image", po::value<std::string>()->default_value("netmarket:latest"), "the image's tag")
      ("prometheus-image", po::value<std::string>()->default_value("netmarket-prometheus:latest"),
       "the tag of the image of the `prometheus` profile's service")
      ("build-context", po::value<std::string>(),
       "the folder the image is built from (default: the one above the scenario with the Dockerfile)")
      ("topology", po::value<std::string>()->default_value(""),
       "run this topology of the scenario instead of its network.topology")
      ("sync", po::value<std::string>()->default_value("fsync"), "fsync or none, as for `up`")
      ("swarm", "write the stack file for `docker stack deploy` instead, and prepare the shared "
       "files it names (--market-dir)")
      ("tls", "mutual TLS on every gRPC link, as `up --tls`: the setup service makes the "
       "certificates in the market volume")
      ("market-dir", po::value<std::string>(),
       "swarm: the folder of the shared files (default: market/ beside the output)");
  // clang-format on
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm =
      parse_command(argc, argv,
                    "Usage: marketctl compose <scenario.yaml> [-o docker-compose.yml]\n\n"
                    "Writes the compose file that runs the scenario as containers of the "
                    "netmarket image.",
                    options, positional, false);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  const auto scenario_path = flags["scenario"].as<std::string>();
  const auto output = flags["output"].as<std::string>();
  const auto base_port = flags["base-port"].as<int>();
  if (base_port < 0 || base_port > 65000) {
    return fail("compose", "--base-port " + std::to_string(base_port) + " is not 0 or a port", 2);
  }
  if (const auto sync = flags["sync"].as<std::string>(); sync != "fsync" && sync != "none") {
    return fail("compose", "--sync must be fsync or none, not '" + sync + "'", 2);
  }
  auto scenario = runtime::load_scenario_file(scenario_path, flags["topology"].as<std::string>());
  if (!scenario) return fail("compose", scenario.error());
  const fs::path out_dir = output == "-" ? fs::current_path() : fs::absolute(output).parent_path();
  const fs::path context = flags.count("build-context")
                               ? fs::path(flags["build-context"].as<std::string>())
                               : build_context_of(scenario_path, out_dir);
  std::string made = "marketctl compose " + relative_to(scenario_path, out_dir);
  const bool swarm = flags.count("swarm") != 0;
  if (swarm) made += " --swarm";
  const bool tls = flags.count("tls") != 0;
  if (tls) made += " --tls";
  if (base_port != 7000) made += " --base-port " + std::to_string(base_port);
  if (!flags["topology"].as<std::string>().empty()) {
    made += " --topology " + flags["topology"].as<std::string>();
  }
  // Swarm: the configs are files in a folder prepared here (a second run keeps keys and epoch).
  const fs::path market_dir = flags.count("market-dir")
                                  ? fs::path(flags["market-dir"].as<std::string>())
                                  : out_dir / "market";
  ComposeOptions compose{.scenario_source = relative_to(scenario_path, out_dir),
                         .build_context = relative_to(context, out_dir),
                         .image = flags["image"].as<std::string>(),
                         .prometheus_image = flags["prometheus-image"].as<std::string>(),
                         .command_line = made,
                         .base_port = base_port,
                         .topology = flags["topology"].as<std::string>(),
                         .sync = flags["sync"].as<std::string>(),
                         .swarm = swarm,
                         .tls = tls,
                         .market_source = relative_to(market_dir, out_dir)};
  auto text = compose_file(*scenario, compose);
  if (!text) return fail("compose", text.error());
  if (swarm) {
    auto prepared = prepare_market(*scenario, {market_dir}, tls);
    if (!prepared) return fail("compose", prepared.error());
    std::cerr << *prepared << ", for the stack's configs\n";
  }
  return write_output("compose", output, *text,
                      (swarm ? "`docker stack deploy -c " + output + " <stack>`"
                             : "`docker compose -f " + output + " up`") +
                          " starts it");
}

int prepare_command(int argc, char** argv) {
  po::options_description options("prepare options");
  options.add_options()("scenario", po::value<std::string>()->required(), "the scenario file")(
      "tls", "also the run's CA and every node's certificate and key (DIR/tls)");
  po::positional_options_description positional;
  positional.add("scenario", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl prepare <scenario.yaml> --run DIR [--tls]\n\n"
      "Writes what every node of a compose market shares into DIR: API keys (accounts), the\n"
      "exchanges' keys to the ledger (ledger-keys), the validators' keys to each other\n"
      "(validator-keys), the nodes' addresses by service name (addresses), the market's\n"
      "time 0 (epoch) and Prometheus's scrape configuration (prometheus.yml). The compose\n"
      "file's setup service runs it; a second run keeps the keys and the epoch.",
      options, positional);
  if (!vm) return vm.error();
  auto scenario = runtime::load_scenario_file((*vm)["scenario"].as<std::string>());
  if (!scenario) return fail("prepare", scenario.error());
  auto prepared =
      prepare_market(*scenario, {(*vm)["run"].as<std::string>()}, (*vm).count("tls") != 0);
  if (!prepared) return fail("prepare", prepared.error());
  std::cout << *prepared << "\n";
  return 0;
}

int probe_command(int argc, char** argv) {
  po::options_description options("probe options");
  // clang-format off
  options.add_options()
      ("target", po::value<std::string>()->required(), "host:port of a gRPC server")
      ("service", po::value<std::string>()->default_value(""),
       "the health service name to ask about (empty: the server as a whole)")
      ("timeout", po::value<std::string>()->default_value("2s"), "how long to wait for the answer")
      ("ledger", "a validator: print its ledger's commit index and trades settled too")
      ("tls-dir", po::value<std::string>(), "a TLS market's certificates (<run>/tls): call over "
       "mutual TLS, with --as")
      ("as", po::value<std::string>(), "with --tls-dir: the node whose certificate to present; "
       "the server must be that node too (a container's health check asks itself)");
  // clang-format on
  po::positional_options_description positional;
  positional.add("target", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl probe <host:port>\n\n"
      "Asks a server's grpc.health.v1 service; exits 0 when it is SERVING, 1 otherwise (the\n"
      "containers' health check).",
      options, positional, false);
  if (!vm) return vm.error();
  const auto target = (*vm)["target"].as<std::string>();
  const auto timeout = parse_duration_us((*vm)["timeout"].as<std::string>());
  if (!timeout) return fail("probe", "--timeout: " + timeout.error(), 2);
  if (!runtime::split_host_port(target)) {
    return fail("probe", "'" + target + "' is not host:port", 2);
  }
  std::shared_ptr<const runtime::TlsIdentity> tls;
  std::string as;
  if ((*vm).count("tls-dir")) {
    if (!(*vm).count("as")) return fail("probe", "--tls-dir needs --as <node>", 2);
    as = (*vm)["as"].as<std::string>();
    auto identity = runtime::load_identity((*vm)["tls-dir"].as<std::string>(), as);
    if (!identity) return fail("probe", identity.error());
    tls = std::make_shared<const runtime::TlsIdentity>(std::move(*identity));
  }
  const auto channel = runtime::make_channel(
      target, {.node_id = runtime::operator_account, .proxy_address = {}, .tls = tls, .peer = as});
  auto stub = hpb::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(deadline_in(std::chrono::milliseconds(*timeout / 1000)));
  hpb::HealthCheckRequest request;
  request.set_service((*vm)["service"].as<std::string>());
  hpb::HealthCheckResponse response;
  const auto status = stub->Check(&context, request, &response);
  if (!status.ok()) return fail("probe", target + ": " + rpc_error(status));
  if (response.status() != hpb::HealthCheckResponse::SERVING) {
    return fail("probe",
                target + " is " + hpb::HealthCheckResponse::ServingStatus_Name(response.status()));
  }
  std::cout << target << " SERVING";
  if ((*vm).count("ledger")) {
    auto ledger = lpb::Ledger::NewStub(channel);
    grpc::ClientContext ask;
    ask.set_deadline(deadline_in(std::chrono::milliseconds(*timeout / 1000)));
    lpb::ClusterStatus cluster;
    if (const auto asked = ledger->GetClusterStatus(&ask, {}, &cluster); !asked.ok()) {
      std::cout << "\n";
      return fail("probe", target + " --ledger: " + rpc_error(asked));
    }
    std::cout << "; leader " << (cluster.leader_id().empty() ? "none" : cluster.leader_id())
              << ", commit index " << cluster.commit_index() << ", " << cluster.trades_applied()
              << " trades settled";
  }
  std::cout << "\n";
  return 0;
}

}  // namespace mkt::marketctl
