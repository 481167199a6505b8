#pragma once
// The compose file of a scenario: every node it can run as a container of the netmarket image, in
// the order `marketctl up` starts them. I/O-free: `marketctl compose` writes what this returns,
// and the tests read it.
//
// The shape of a compose market (docs: README, "Docker"):
//   - a `netmarket-setup` service runs once first (`marketctl prepare`) and writes what every
//     node shares into the `market` volume: API keys, addresses by service name, the epoch;
//   - one service per node, its hostname the node id, the scenario bind-mounted read-only,
//     validators and exchanges with a named volume (`data-<node>`) for their write-ahead log or
//     journal, so a recreated container loses nothing;
//   - health checks with `marketctl probe` (grpc.health.v1) and `depends_on: service_healthy`
//     in start order: proxy, validators, exchanges, agents;
//   - every node's ports published: the proxy's and the exchanges' on every interface (users
//     attach there), the validators' and agents' on 127.0.0.1 (for marketctl only);
//   - Prometheus (Debian's, an image of its own: deploy/docker/prometheus.Dockerfile) in the
//     profile `prometheus`, off unless asked for, scraping every node with the configuration
//     `marketctl prepare` writes beside the accounts (`marketctl prometheus`'s, by service name),
//     published on 127.0.0.1 at the port after the market's last;
//   - with `tls`, the setup service also makes the run's CA and every node's certificate
//     (`marketctl prepare --tls`, in the volume's tls/), every node runs with --tls-dir, and each
//     health check probes its own container as that node (`marketctl probe --tls-dir --as`).
// Only what both `docker compose` (v2) and Debian's docker-compose (1.29) accept: no `version`,
// no `name`, no extension fields, long-form volumes.
//
// With `swarm`, the stack file of the same market for `docker stack deploy` (format 3.9, which
// Docker's stack deploy reads and which has no ordered start): no setup service, the shared files
// as swarm configs from a folder prepared beforehand (`marketctl prepare`), so every host sees
// them; one replica per node, restarted on failure until what it needs is up; the proxy, the
// validators and the exchanges pinned by placement (node.labels.netmarket.<node id> == true) to
// the host that holds their volume or publishes their ports; found by DNS round robin and
// published on their host (no virtual IPs or routing mesh: both need IPVS, which not every
// kernel has, and the proxy would see the mesh's addresses instead of its peers').

#include <expected>
#include <string>
#include <utility>
#include <vector>

#include "mkt/runtime/run_folder.h"
#include "mkt/scenario/scenario.h"

namespace mkt::marketctl {

struct ComposeOptions {
  std::string scenario_source;      // the scenario file as the compose file names it
  std::string build_context = ".";  // the repository root, relative to the compose file
  std::string image = "netmarket:latest";
  std::string prometheus_image = "netmarket-prometheus:latest";
  std::string command_line;  // how the file was made, for its header
  int base_port = 7000;      // host ports from here in start order; 0: ephemeral
  std::string topology;      // the scenario's topology override
  std::string sync = "fsync";
  bool swarm = false;
  // Mutual TLS (`marketctl compose --tls`): the setup service (or `prepare --tls`) makes the
  // certificates in the market's tls/ folder, and every node and health check uses them.
  bool tls = false;
  std::string market_source = "./market";  // swarm: the prepared folder, as the file names it
};

// The service that writes the market volume before any node starts.
inline constexpr const char* setup_service = "netmarket-setup";
// Prometheus's service (profile `prometheus`) and the port it serves in its container.
inline constexpr const char* prometheus_service_name = "prometheus";
inline constexpr int prometheus_port = 9090;
// Its configuration, in the market volume beside the accounts (`marketctl prepare` writes it).
inline constexpr const char* prometheus_file = "prometheus.yml";

// The ports a container of this role listens on (the same in every container of the role).
runtime::Ports container_ports(scenario::Role role);

// Every node but the proxy with its gRPC address by service name ("val-0:7000"), in start order:
// the addresses file of a compose or swarm market.
std::vector<std::pair<std::string, std::string>> container_addresses(
    const scenario::Scenario& scenario);

// An error naming the node when its id cannot be a service name and hostname (RFC 1123 label:
// lowercase letters, digits and inner hyphens, at most 63 characters).
std::expected<void, std::string> check_hostname(const std::string& node_id);

std::expected<std::string, std::string> compose_file(const scenario::Scenario& scenario,
                                                     const ComposeOptions& options);

}  // namespace mkt::marketctl
