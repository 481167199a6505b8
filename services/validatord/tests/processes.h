#pragma once
// Validators as real processes for the tests and the benchmark: a cluster of `validatord`
// children on free ports (each reports its port; the addresses file is written once all have),
// optionally talking through a real `netproxy`, and a blocking Ledger client that follows leader
// hints and retries what is retryable, the way an exchange does.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "market/ledger/v1/ledger.grpc.pb.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "market/telemetry/v1/telemetry.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/http_client.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"
#include "mkt/testing/child_process.h"
#include "mkt/testing/eventually.h"

namespace mkt::validatord::test {

using namespace std::chrono_literals;
namespace lpb = market::ledger::v1;
using Clock = std::chrono::steady_clock;

inline std::string temp_dir(const std::string& name) {
  static int counter = 0;
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("validatord-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

using mkt::testing::eventually;

struct ClusterOptions {
  std::size_t validators = 3;
  bool through_proxy = false;
  std::vector<std::string> extra_args = {};  // for every validator
  std::string wal_sync = "fsync";
  unsigned heartbeat_ms = 20;
  unsigned election_timeout_ms = 200;
  std::string binary = VALIDATORD_BINARY;  // another build, for a benchmark's A/B
  // Mutual TLS between everyone (validatord --tls-dir): the validators with each other, each
  // exchange's client with its own certificate, the tester as the operator.
  bool tls = false;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options)
      : options_(std::move(options)), dir_(temp_dir("cluster")) {
    // The test scenario, with this cluster's number of validators and timing.
    std::ifstream in(VALIDATORD_TESTS "/cluster.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text = std::regex_replace(text, std::regex("validators: 5"),
                              "validators: " + std::to_string(options_.validators));
    text = std::regex_replace(text, std::regex("heartbeat_ms: 20"),
                              "heartbeat_ms: " + std::to_string(options_.heartbeat_ms));
    text =
        std::regex_replace(text, std::regex("election_timeout_ms: 200"),
                           "election_timeout_ms: " + std::to_string(options_.election_timeout_ms));
    scenario_ = dir_ + "/scenario.yaml";
    std::ofstream(scenario_) << text;
    std::ofstream(operator_accounts()) << "operator " << operator_key << "\n";
    {
      std::ofstream keys(ledger_keys());
      for (const char* exchange : exchanges) {
        keys << exchange << " " << ledger_key(exchange) << "\n";
      }
      std::ofstream peers(validator_keys());
      for (std::size_t i = 0; i < options_.validators; ++i) {
        peers << "val-" << i << " " << validator_key("val-" + std::to_string(i)) << "\n";
      }
    }
    for (std::size_t i = 0; i < options_.validators; ++i) {
      nodes_.push_back({"val-" + std::to_string(i), dir_ + "/val-" + std::to_string(i), 0, 0, {}});
    }
    if (options_.tls) {
      std::vector<runtime::CertificateSubject> subjects{
          {.node_id = runtime::operator_account, .role = "operator"}};
      for (const auto& node : nodes_)
        subjects.push_back({.node_id = node.name, .role = "validator"});
      for (const char* exchange : exchanges)
        subjects.push_back({.node_id = exchange, .role = "exchange"});
      if (auto made = runtime::write_certificates(tls_dir(), subjects); !made) {
        throw std::runtime_error(made.error());
      }
    }
    if (options_.through_proxy) start_proxy();
    for (std::size_t i = 0; i < nodes_.size(); ++i) start(i);
    write_addresses();
  }
  ~Cluster() {
    nodes_.clear();
    proxy_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The exchanges that may submit (each with its key, and with TLS its certificate).
  static constexpr const char* exchanges[] = {"ex-0", "ex-1", "ex-2", "ex-3"};

  std::size_t size() const { return nodes_.size(); }
  std::string tls_dir() const { return dir_ + "/tls"; }
  const std::string& scenario() const { return scenario_; }
  // The operator's key to the proxy's control API (its --accounts).
  std::string operator_accounts() const { return dir_ + "/accounts"; }
  static constexpr const char* operator_key = "test-operator-key-0123";
  // The exchanges' keys to the ledger (every validator's --ledger-keys), and one of them.
  std::string ledger_keys() const { return dir_ + "/ledger-keys"; }
  static std::string ledger_key(const std::string& exchange) {
    return "test-ledger-key-of-" + exchange;
  }
  // The validators' keys to each other (every validator's --validator-keys), and one of them.
  std::string validator_keys() const { return dir_ + "/validator-keys"; }
  static std::string validator_key(const std::string& validator) {
    return "test-validator-key-of-" + validator;
  }
  const std::string& name(std::size_t i) const { return nodes_[i].name; }
  std::string address(std::size_t i) const { return "127.0.0.1:" + std::to_string(nodes_[i].port); }
  std::string addresses() const {
    std::string out;
    for (std::size_t i = 0; i < nodes_.size(); ++i) out += (i ? "," : "") + address(i);
    return out;
  }
  bool running(std::size_t i) const { return nodes_[i].process && nodes_[i].process->running(); }
  std::string output(std::size_t i) { return nodes_[i].process->output(); }

  // Starts validator i (again): on its previous port when it had one, with its data directory.
  void start(std::size_t i) {
    Node& node = nodes_[i];
    std::vector<std::string> argv{options_.binary,
                                  "--config",
                                  scenario_,
                                  "--node",
                                  node.name,
                                  "--listen",
                                  "127.0.0.1:" + std::to_string(node.port),
                                  "--data-dir",
                                  node.data_dir,
                                  "--addresses",
                                  dir_ + "/addresses",
                                  "--wal-sync",
                                  options_.wal_sync,
                                  "--ledger-keys",
                                  ledger_keys(),
                                  "--validator-keys",
                                  validator_keys()};
    if (proxy_) argv.insert(argv.end(), {"--proxy", "127.0.0.1:" + std::to_string(proxy_port_)});
    if (options_.tls) argv.insert(argv.end(), {"--tls-dir", tls_dir()});
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    node.process = std::make_unique<testing::ChildProcess>(argv);
    const auto line =
        node.process->wait_for_line("listening on port ([0-9]+); metrics on port ([0-9]+)", 20s);
    if (!line) throw std::runtime_error(node.name + " did not start:\n" + node.process->output());
    node.port = std::stoi((*line)[1]);
    node.metrics_port = std::stoi((*line)[2]);
  }
  // Validator i's /metrics (empty when it does not answer).
  std::string metrics(std::size_t i) const {
    return runtime::http_get("127.0.0.1", nodes_[i].metrics_port, "/metrics", 2s).value_or("");
  }
  void kill(std::size_t i) { nodes_[i].process->kill(); }

  std::optional<lpb::ClusterStatus> status(std::size_t i) const {
    if (!running(i)) return std::nullopt;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 1s);
    lpb::ClusterStatus out;
    if (!stub(i).GetClusterStatus(&context, {}, &out).ok()) return std::nullopt;
    return out;
  }
  // The validator that says it leads; of two (a deposed one that has not heard yet), the one of
  // the newer term.
  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    std::uint64_t found_term = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto s = status(i);
      if (!s || s->leader_id() != nodes_[i].name || s->term() < found_term) continue;
      found = i;
      found_term = s->term();
    }
    return found;
  }
  std::size_t wait_for_leader(std::chrono::milliseconds timeout = 10s) const {
    std::optional<std::size_t> found;
    if (!eventually([&] { return (found = leader()).has_value(); }, timeout)) {
      throw std::runtime_error("no leader within the timeout");
    }
    return *found;
  }
  // Every running validator applied the same entries up to at least `index` and holds the same
  // ledger.
  bool converged(std::uint64_t index = 0) const {
    std::optional<lpb::ClusterStatus> first;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!running(i)) continue;
      auto s = status(i);
      if (!s || s->applied_index() < index) return false;
      if (!first) {
        first = s;
      } else if (s->applied_index() != first->applied_index() ||
                 s->ledger_hash() != first->ledger_hash()) {
        return false;
      }
    }
    return first.has_value();
  }

  // A stub to validator i, as the operator; as `node` (an exchange submitting), with TLS its own
  // certificate (the same stub without TLS).
  lpb::Ledger::Stub& stub(std::size_t i,
                          const std::string& node = runtime::operator_account) const {
    const std::string as = options_.tls ? node : runtime::operator_account;
    auto& slot = stubs_[{nodes_[i].port, as}];
    if (!slot) {
      std::shared_ptr<const runtime::TlsIdentity> tls;
      if (options_.tls) {
        auto identity = runtime::load_identity(tls_dir(), as);
        if (!identity) throw std::runtime_error(identity.error());
        tls = std::make_shared<const runtime::TlsIdentity>(std::move(*identity));
      }
      slot = lpb::Ledger::NewStub(
          runtime::make_channel(address(i), {.node_id = as,
                                             .proxy_address = "",
                                             .max_receive_message_bytes = 64 << 20,
                                             .tls = std::move(tls),
                                             .peer = nodes_[i].name}));
    }
    return *slot;
  }

  // Cuts the validators into groups through the proxy (reset mode: connections are closed).
  void partition(const std::vector<std::vector<std::string>>& groups) {
    market::netcontrol::v1::CreatePartitionRequest request;
    request.set_mode(market::netcontrol::v1::PARTITION_MODE_RESET);
    for (const auto& group : groups) {
      auto* g = request.add_groups();
      for (const auto& node : group) g->add_nodes(node);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    context.AddMetadata("x-api-key", operator_key);
    market::netcontrol::v1::Partition out;
    const auto status = control().CreatePartition(&context, request, &out);
    if (!status.ok()) throw std::runtime_error("partition: " + status.error_message());
  }
  void heal() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    context.AddMetadata("x-api-key", operator_key);
    market::netcontrol::v1::HealPartitionResponse out;
    const auto status = control().HealPartition(&context, {}, &out);
    if (!status.ok()) throw std::runtime_error("heal: " + status.error_message());
  }

 private:
  struct Node {
    std::string name;
    std::string data_dir;
    int port = 0;
    int metrics_port = 0;
    std::unique_ptr<testing::ChildProcess> process;
  };

  void start_proxy() {
    proxy_ = std::make_unique<testing::ChildProcess>(std::vector<std::string>{
        NETPROXY_BINARY, "--config", scenario_, "--node", "netproxy", "--listen", "127.0.0.1:0",
        "--control-listen", "127.0.0.1:0", "--addresses", dir_ + "/addresses", "--accounts",
        operator_accounts()});
    const auto line =
        proxy_->wait_for_line("listening on port ([0-9]+).*control on port ([0-9]+)", 20s);
    if (!line) throw std::runtime_error("netproxy did not start:\n" + proxy_->output());
    proxy_port_ = std::stoi((*line)[1]);
    control_ = market::netcontrol::v1::NetControl::NewStub(
        runtime::make_channel("127.0.0.1:" + (*line)[2], {"tester", "", 4 << 20}));
  }
  market::netcontrol::v1::NetControl::Stub& control() { return *control_; }

  void write_addresses() const {
    std::ofstream out(dir_ + "/addresses.tmp");
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      out << nodes_[i].name << " " << address(i) << "\n";
    out.close();
    std::filesystem::rename(dir_ + "/addresses.tmp", dir_ + "/addresses");
  }

  ClusterOptions options_;
  std::string dir_;
  std::string scenario_;
  std::vector<Node> nodes_;
  std::unique_ptr<testing::ChildProcess> proxy_;
  int proxy_port_ = 0;
  std::unique_ptr<market::netcontrol::v1::NetControl::Stub> control_;
  mutable std::map<std::pair<int, std::string>, std::unique_ptr<lpb::Ledger::Stub>> stubs_;
};

inline lpb::TradeBatch make_batch(const std::string& exchange, std::uint64_t sequence,
                                  std::size_t trades) {
  lpb::TradeBatch batch;
  batch.set_exchange_id(exchange);
  batch.set_sequence(sequence);
  for (std::size_t i = 0; i < trades; ++i) {
    auto* t = batch.add_trades();
    t->set_trade_id((sequence - 1) * trades + i + 1);
    t->set_symbol("S");
    t->set_price_ticks(100);
    t->set_quantity_lots(2);
    t->set_notional(200);
    t->set_buyer_account("alice");
    t->set_seller_account("bob");
    t->set_aggressor_side(market::common::v1::SIDE_BUY);
  }
  return batch;
}

// Submits a batch until it is acknowledged or the deadline passes, the way an exchange does:
// follows x-leader-address, and on UNAVAILABLE or a timeout tries the next validator.
class LedgerClient {
 public:
  explicit LedgerClient(const Cluster& cluster) : cluster_(cluster) {}

  grpc::Status submit(const lpb::TradeBatch& batch, lpb::SubmitTradeBatchResponse& out,
                      std::chrono::milliseconds timeout = 10s,
                      std::chrono::milliseconds call_timeout = 1s) {
    const auto deadline = Clock::now() + timeout;
    grpc::Status status;
    while (Clock::now() < deadline) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + call_timeout);
      context.AddMetadata(runtime::ledger_key_metadata, Cluster::ledger_key(batch.exchange_id()));
      status = cluster_.stub(target_, batch.exchange_id()).SubmitTradeBatch(&context, batch, &out);
      if (status.ok()) return status;
      const auto& trailing = context.GetServerTrailingMetadata();
      auto hint = trailing.find("x-leader-id");
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION && hint != trailing.end()) {
        const std::string leader(hint->second.data(), hint->second.size());
        for (std::size_t i = 0; i < cluster_.size(); ++i) {
          if (cluster_.name(i) == leader) target_ = i;
        }
        continue;
      }
      if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
          status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
        return status;  // not retryable
      }
      target_ = (target_ + 1) % cluster_.size();
      std::this_thread::sleep_for(10ms);  // backoff before the next attempt
    }
    return status;
  }

 private:
  const Cluster& cluster_;
  std::size_t target_ = 0;
};

}  // namespace mkt::validatord::test
