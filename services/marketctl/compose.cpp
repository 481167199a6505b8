#include "compose.h"

#include <set>
#include <sstream>

#include "mkt/runtime/logging.h"
#include "plan.h"

namespace mkt::marketctl {

using scenario::Role;

namespace {

// A double-quoted YAML scalar (YAML reads JSON's escapes), `$` doubled: compose interpolates
// `${...}`.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char c : runtime::json_escape(text)) {
    if (c == '$') out += '$';
    out += c;
  }
  return out + "\"";
}

std::string flow_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quoted(items[i]);
  return out + "]";
}

// A command line, one argument per line.
std::string block_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += "\n      - " + quoted(item);
  return out;
}

using runtime::port_of;

// The port a health check asks: the gRPC port, or the proxy's control API.
int health_port(Role role) {
  return port_of(container_ports(role), role == Role::proxy ? "control" : "grpc");
}

bool has_volume(Role role) {
  return role == Role::validator || role == Role::exchange;
}

// What every container of a swarm market mounts as configs (name, path in the container): the
// scenario, and the shared files of the run folder at /market.
std::vector<std::pair<std::string, std::string>> swarm_configs() {
  const runtime::RunPaths market{container::market};
  std::vector<std::pair<std::string, std::string>> configs{{"scenario", container::scenario}};
  for (const auto& path : {market.accounts(), market.ledger_keys(), market.validator_keys(),
                           market.addresses(), market.epoch()}) {
    configs.emplace_back(path.filename().string(), path.string());
  }
  return configs;
}

// A TLS swarm market's configs for one node (name, path in the container): the CA and the node's
// own certificate and key, each only where it belongs.
std::vector<std::pair<std::string, std::string>> swarm_tls_configs(const std::string& node) {
  const auto dir = runtime::RunPaths{container::market}.tls();
  std::vector<std::pair<std::string, std::string>> configs;
  for (const auto& leaf : {std::string("ca.pem"), node + ".pem", node + ".key"}) {
    configs.emplace_back("tls-" + leaf, (dir / leaf).string());
  }
  return configs;
}

void volume(std::ostream& out, const std::string& type, const std::string& source,
            const std::string& target, bool read_only) {
  out << "      - type: " << type << "\n"
      << "        source: " << quoted(source) << "\n"
      << "        target: " << target << "\n";
  if (read_only) out << "        read_only: true\n";
}

// One node's service: its node, command line, and the host ports it publishes (null: ones the
// engine picks).
struct Service {
  const scenario::Node& node;
  std::vector<std::string> args;
  const runtime::Ports* host_ports;
};

// Both files: image, hostname and command; and the health check.
void head(std::ostream& out, const Service& s, const ComposeOptions& options) {
  out << "\n  " << s.node.id << ":\n"
      << "    image: " << options.image << "\n"
      << "    hostname: " << s.node.id << "\n"
      << "    command:" << block_list(s.args) << "\n";
}

// The container asks itself; in a TLS market, as itself (its own certificate, expecting it back).
void healthcheck(std::ostream& out, const scenario::Node& node, bool tls) {
  std::vector<std::string> test{"CMD", "marketctl", "probe"};
  if (tls) {
    test.push_back("--tls-dir=" + runtime::RunPaths{container::market}.tls().string());
    test.push_back("--as=" + node.id);
  }
  test.push_back("127.0.0.1:" + std::to_string(health_port(node.role)));
  out << "    healthcheck:\n"
      << "      test: " << flow_list(test) << "\n"
      << "      interval: 3s\n"
      << "      timeout: 2s\n"
      << "      retries: 20\n";
}

// The proxy and the exchanges are reached from outside; the others only by the operator.
bool reached_from_outside(Role role) {
  return role == Role::proxy || role == Role::exchange;
}

void compose_service(std::ostream& out, const Service& s, const ComposeOptions& options,
                     const std::vector<const scenario::Node*>* previous) {
  head(out, s, options);
  out << "    volumes:\n";
  volume(out, "bind", options.scenario_source, container::scenario, true);
  volume(out, "volume", "market", container::market, true);
  if (has_volume(s.node.role)) volume(out, "volume", "data-" + s.node.id, container::data, false);
  out << "    ports:\n";
  for (const auto& [name, port] : container_ports(s.node.role)) {
    std::string mapping = "127.0.0.1::";  // the engine picks, on loopback
    if (s.host_ports != nullptr) {
      mapping = (reached_from_outside(s.node.role) ? "" : "127.0.0.1:") +
                std::to_string(port_of(*s.host_ports, name)) + ":";
    }
    out << "      - " << quoted(mapping + std::to_string(port)) << "\n";
  }
  healthcheck(out, s.node, options.tls);
  out << "    restart: \"no\"\n"
      << "    depends_on:\n";
  if (previous == nullptr) {
    out << "      " << setup_service << ":\n"
        << "        condition: service_completed_successfully\n";
    return;
  }
  for (const auto* before : *previous) {
    out << "      " << before->id << ":\n        condition: service_healthy\n";
  }
}

void swarm_service(std::ostream& out, const Service& s, const ComposeOptions& options) {
  head(out, s, options);
  out << "    configs:\n";
  for (const auto& [config, target] : swarm_configs()) {
    // Keys are credentials: the ledger's go to the exchanges and validators, the validators'
    // to the validators.
    const runtime::RunPaths names;
    const bool validators = s.node.role == Role::validator;
    if (config == names.ledger_keys().filename().string() && !validators &&
        s.node.role != Role::exchange) {
      continue;
    }
    if (config == names.validator_keys().filename().string() && !validators) continue;
    out << "      - {source: " << config << ", target: " << target
        << ", uid: \"10001\", gid: \"10001\", mode: 0400}\n";
  }
  if (options.tls) {
    for (const auto& [config, target] : swarm_tls_configs(s.node.id)) {
      out << "      - {source: " << config << ", target: " << target
          << ", uid: \"10001\", gid: \"10001\", mode: 0400}\n";
    }
  }
  if (has_volume(s.node.role)) {
    out << "    volumes:\n";
    volume(out, "volume", "data-" + s.node.id, container::data, false);
  }
  const bool outside = reached_from_outside(s.node.role);
  if (outside) {
    // On the host that runs the task (no routing mesh: see the header).
    out << "    ports:\n";
    for (const auto& [name, port] : container_ports(s.node.role)) {
      out << "      - {target: " << port;
      if (s.host_ports != nullptr) out << ", published: " << port_of(*s.host_ports, name);
      out << ", protocol: tcp, mode: host}\n";
    }
  }
  healthcheck(out, s.node, options.tls);
  out << "    deploy:\n"
      << "      replicas: 1\n"
      << "      endpoint_mode: dnsrr\n"
      << "      restart_policy: {condition: on-failure, delay: 2s}\n";
  if (has_volume(s.node.role) || outside) {
    out << "      placement:\n"
        << "        constraints: [\"node.labels.netmarket." << s.node.id << " == true\"]\n";
  }
}

// Prometheus from Debian, for users who run it, started only with `--profile prometheus`: it
// scrapes every node by service name, with the configuration the setup service wrote from the
// scenario (prometheus.yml in the market volume). Its data is a volume of its own.
void prometheus_service(std::ostream& out, const ComposeOptions& options, int host_port) {
  out << "\n  " << prometheus_service_name << ":\n"
      << "    image: " << options.prometheus_image << "\n"
      << "    build:\n"
      << "      context: " << quoted(options.build_context + "/deploy/docker") << "\n"
      << "      dockerfile: prometheus.Dockerfile\n"
      << "    profiles: [\"prometheus\"]\n"
      << "    command:"
      << block_list({std::string("--config.file=") + container::market + "/" + prometheus_file,
                     "--storage.tsdb.path=/prometheus",
                     "--web.listen-address=:" + std::to_string(prometheus_port)})
      << "\n"
      << "    volumes:\n";
  volume(out, "volume", "market", container::market, true);
  volume(out, "volume", "prometheus", "/prometheus", false);
  out << "    ports:\n"
      << "      - "
      << quoted("127.0.0.1:" + (host_port != 0 ? std::to_string(host_port) : "") + ":" +
                std::to_string(prometheus_port))
      << "\n"
      << "    restart: \"no\"\n"
      << "    depends_on:\n"
      << "      " << setup_service << ":\n"
      << "        condition: service_completed_successfully\n";
}

}  // namespace

runtime::Ports container_ports(Role role) {
  if (role == Role::proxy) return {{"proxy", 7000}, {"control", 7001}, {"http", 7002}};
  return {{"grpc", 7000}, {"metrics", 7001}};
}

std::vector<std::pair<std::string, std::string>> container_addresses(
    const scenario::Scenario& scenario) {
  std::vector<std::pair<std::string, std::string>> addresses;
  for (const auto& stage : start_plan(scenario).stages) {
    for (const auto* node : stage) {
      if (node->role == Role::proxy) continue;
      const int grpc = port_of(container_ports(node->role), "grpc");
      addresses.emplace_back(node->id, node->id + ":" + std::to_string(grpc));
    }
  }
  return addresses;
}

std::expected<void, std::string> check_hostname(const std::string& id) {
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  bool ok = !id.empty() && id.size() <= 63 && alnum(id.front()) && alnum(id.back());
  for (const char c : id) ok = ok && (alnum(c) || c == '-');
  if (ok && id != setup_service && id != prometheus_service_name) return {};
  if (ok) return std::unexpected("node '" + id + "': the name of a compose market's own service");
  return std::unexpected("node '" + id +
                         "' cannot be a container's hostname: use lowercase letters, digits and "
                         "inner hyphens, at most 63 characters");
}

std::expected<std::string, std::string> compose_file(const scenario::Scenario& scenario,
                                                     const ComposeOptions& options) {
  const auto plan = start_plan(scenario);
  std::vector<const scenario::Node*> nodes;
  for (const auto& stage : plan.stages) nodes.insert(nodes.end(), stage.begin(), stage.end());
  for (const auto* node : nodes) {
    if (auto ok = check_hostname(node->id); !ok) return std::unexpected(ok.error());
  }

  LaunchOptions launch{.run = {container::market},
                       .binaries = {.netproxy = "netproxy",
                                    .exchanged = "exchanged",
                                    .validatord = "validatord",
                                    .agentd = "agentd",
                                    .monitord = "monitord"},
                       .sync = options.sync,
                       .topology = options.topology,
                       .container = true,
                       .tls = options.tls,
                       .proxy_http_port = port_of(container_ports(Role::proxy), "http"),
                       .proxy_control_port = port_of(container_ports(Role::proxy), "control")};
  std::map<std::string, std::string> addresses;
  for (auto& [node, address] : container_addresses(scenario)) addresses[node] = address;
  std::string proxy;
  if (const auto* node = scenario.find_node(scenario.proxy_id); node) {
    proxy = node->id + ":" + std::to_string(port_of(container_ports(Role::proxy), "proxy"));
  }
  // Without a base port, the engine picks each host port (on loopback: tests, many markets).
  const auto host_ports = options.base_port == 0 ? std::map<std::string, runtime::Ports>{}
                                                 : fixed_ports(plan, options.base_port);

  std::ostringstream out;
  if (options.swarm) {
    out << "# The stack file of scenario '" << scenario.name << "' for Docker Swarm, written by\n"
        << "#   " << options.command_line << "\n"
        << "# Do not edit: change the scenario and write it again. Deploy with\n"
        << "#   docker stack deploy -c <this file> <stack>\n"
        << "# after labelling the host of the proxy, of each validator and of each exchange (it\n"
        << "# keeps their volume, and publishes the proxy's and exchanges' ports):\n"
        << "#   docker node update --label-add netmarket.<node id>=true <host>\n"
        << "# Services are found by DNS round robin (endpoint_mode dnsrr) and ports are published\n"
        << "# on the task's host (mode host): no virtual IPs, no routing mesh, so no IPVS needed.\n"
        << "# The shared files come from " << options.market_source
        << " (marketctl prepare), as swarm configs.\n";
  } else {
    out << "# The compose file of scenario '" << scenario.name << "', written by\n"
        << "#   " << options.command_line << "\n"
        << "# Do not edit: change the scenario and write it again. `docker compose up` (or\n"
        << "# docker-compose up) builds the image and starts the market; `marketctl status "
           "--compose\n"
        << "# <this file>` and the other marketctl commands operate it.\n";
  }
  if (!plan.skipped.empty()) {
    out << "#\n# Not started:\n";
    for (const auto& [node, why] : plan.skipped) out << "#   " << node->id << ": " << why << "\n";
  }
  if (options.swarm) out << "\nversion: \"3.9\"\n";
  out << "\nservices:\n";

  if (!options.swarm) {
    // The setup service: writes the market volume once (a second run keeps keys and epoch).
    std::vector<std::string> prepare{"marketctl", "prepare", container::scenario,
                                     std::string("--run=") + container::market};
    if (options.tls) prepare.emplace_back("--tls");
    out << "  " << setup_service << ":\n"
        << "    image: " << options.image << "\n"
        << "    build: " << quoted(options.build_context) << "\n"
        << "    command: " << flow_list(prepare) << "\n"
        << "    volumes:\n";
    volume(out, "bind", options.scenario_source, container::scenario, true);
    volume(out, "volume", "market", container::market, false);
  }

  const std::vector<const scenario::Node*>* previous = nullptr;
  for (const auto& stage : plan.stages) {
    for (const auto* node : stage) {
      const Service service{
          .node = *node,
          .args =
              command_line(scenario, *node, launch, container_ports(node->role), addresses, proxy),
          .host_ports = host_ports.contains(node->id) ? &host_ports.at(node->id) : nullptr};
      if (options.swarm) {
        swarm_service(out, service, options);
      } else {
        compose_service(out, service, options, previous);
      }
    }
    previous = &stage;
  }
  if (!options.swarm) {
    // The port after the market's last, when they are fixed.
    int after = 0;
    for (const auto& [node, ports] : host_ports) {
      for (const auto& [name, port] : ports) after = std::max(after, port + 1);
    }
    prometheus_service(out, options, after);
  }

  if (options.swarm) {
    out << "\nconfigs:\n";
    for (const auto& [config, target] : swarm_configs()) {
      const auto file =
          config == "scenario" ? options.scenario_source : options.market_source + "/" + config;
      out << "  " << config << ":\n    file: " << quoted(file) << "\n";
    }
    if (options.tls) {
      std::set<std::string> written;
      for (const auto* node : nodes) {
        for (const auto& [config, target] : swarm_tls_configs(node->id)) {
          if (!written.insert(config).second) continue;
          out << "  " << config
              << ":\n    file: " << quoted(options.market_source + "/tls/" + config.substr(4))
              << "\n";
        }
      }
    }
  }
  out << "\nvolumes:\n";
  if (!options.swarm) out << "  market:\n  prometheus:\n";
  for (const auto* node : nodes) {
    if (has_volume(node->role)) out << "  data-" << node->id << ":\n";
  }
  return out.str();
}

}  // namespace mkt::marketctl
