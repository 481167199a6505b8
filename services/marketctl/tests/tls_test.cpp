// `marketctl up --tls`: a market whose every gRPC link is mutual TLS, and whose servers check the
// caller's certificate against the role the call needs. The test calls each service as a user's
// own client would, with the run's certificates, right and wrong.
#include "mkt/runtime/tls.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <string>

#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "market/exchange/v1/exchange.grpc.pb.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "market/peer/v1/peer.grpc.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/marketctl.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace mkt::testing::marketctl;
using mkt::testing::eventually;

const std::string scenario_file = std::string(MARKETCTL_TESTS) + "/market.yaml";

// What a client of a TLS run needs: the run, and which certificate to present.
struct Client {
  fs::path run;

  // A channel to `node`'s port `port_name`, presenting `as`'s certificate (none: plaintext) and
  // expecting `peer`'s (default: the node's).
  std::shared_ptr<grpc::Channel> channel(const std::string& node, const std::string& as,
                                         const char* port_name = "grpc",
                                         const std::string& peer = {}) const {
    const auto state = mkt::runtime::read_state({run});
    REQUIRE(state.has_value());
    const auto* record = state->find(node);
    REQUIRE(record != nullptr);
    std::shared_ptr<const mkt::runtime::TlsIdentity> tls;
    if (!as.empty()) {
      auto identity = mkt::runtime::load_identity(run / "tls", as);
      REQUIRE(identity.has_value());
      tls = std::make_shared<const mkt::runtime::TlsIdentity>(std::move(*identity));
    }
    return mkt::runtime::make_channel(
        mkt::runtime::loopback(record->port(port_name)),
        {.node_id = as, .proxy_address = {}, .tls = tls, .peer = peer.empty() ? node : peer});
  }

  std::string key(const char* file, const std::string& owner) const {
    const auto keys = mkt::runtime::read_accounts_file((run / file).string());
    REQUIRE(keys.has_value());
    const auto key = mkt::accounts::key_of(*keys, owner);
    REQUIRE(key.has_value());
    return *key;
  }
};

std::unique_ptr<grpc::ClientContext> context_with(const char* metadata, const std::string& key) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + 10s);
  context->AddMetadata(metadata, key);
  return context;
}

}  // namespace

TEST_CASE(
    "marketctl process: with --tls every link is mutual TLS and each server checks who calls") {
  const auto run = run_dir("tls");
  const auto up =
      marketctl({"up", scenario_file, "--run", run, "--detach", "--sync", "none", "--tls"});
  INFO(up.output);
  REQUIRE(up.code == 0);
  const Client client{run};
  for (const auto* node :
       {"ca", "operator", "netproxy", "val-0", "val-1", "val-2", "ex-1", "alice", "bob"}) {
    CHECK(fs::exists(fs::path(run) / "tls" / (std::string(node) + ".pem")));
  }

  // The market works: agents trade through the proxy, the exchange settles with the validators,
  // and marketctl operates it, all over TLS.
  REQUIRE(eventually(
      [&] {
        const auto tail = marketctl({"ledger", "tail", "--run", run, "--count", "1"});
        return tail.code == 0 && tail.output.find(" trades settled") != std::string::npos &&
               tail.output.find(" 0 trades settled") == std::string::npos;
      },
      30s, 200ms));
  const auto status = marketctl({"status", "--run", run, "--interval", "50"});
  INFO(status.output);
  CHECK(status.output.find("leader: val-") != std::string::npos);

  SECTION("an exchange serves an account to its own agent or the operator only") {
    namespace epb = market::exchange::v1;
    const auto alice = client.key("accounts", "alice");
    epb::AccountState state;
    auto own = epb::Exchange::NewStub(client.channel("ex-1", "alice"));
    const auto ok = own->GetAccount(context_with("x-api-key", alice).get(), {}, &state);
    INFO(ok.error_message());
    CHECK(ok.ok());
    auto by_operator = epb::Exchange::NewStub(client.channel("ex-1", "operator"));
    CHECK(by_operator->GetAccount(context_with("x-api-key", alice).get(), {}, &state).ok());
    // Bob's certificate with alice's key: a stolen key is not enough.
    auto stolen = epb::Exchange::NewStub(client.channel("ex-1", "bob"));
    const auto refused = stolen->GetAccount(context_with("x-api-key", alice).get(), {}, &state);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() ==
          "the TLS peer 'bob' is not 'alice', whose key the call carries, or the operator");
    epb::SubmitOrderRequest order;
    epb::OrderResponse response;
    CHECK(stolen->SubmitOrder(context_with("x-api-key", alice).get(), order, &response)
              .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  }

  SECTION("the ledger takes batches from the exchange itself only") {
    namespace lpb = market::ledger::v1;
    const auto ex_key = client.key("ledger-keys", "ex-1");
    lpb::TradeBatch batch;
    batch.set_exchange_id("ex-1");
    batch.set_sequence(1'000'000);
    lpb::SubmitTradeBatchResponse response;
    auto as_agent = lpb::Ledger::NewStub(client.channel("val-0", "alice"));
    const auto refused =
        as_agent->SubmitTradeBatch(context_with("x-ledger-key", ex_key).get(), batch, &response);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() ==
          "the TLS peer 'alice' is not exchange 'ex-1', whose key the call carries");
    // With the exchange's own certificate the call gets past who it is (to the batch's checks:
    // an empty batch is refused for what it is, or redirected to the leader).
    auto as_exchange = lpb::Ledger::NewStub(client.channel("val-0", "ex-1"));
    const auto checked =
        as_exchange->SubmitTradeBatch(context_with("x-ledger-key", ex_key).get(), batch, &response);
    INFO(checked.error_message());
    CHECK(checked.error_code() != grpc::StatusCode::PERMISSION_DENIED);
    CHECK(checked.error_code() != grpc::StatusCode::UNAVAILABLE);
    // Anyone of the run may read.
    lpb::ClusterStatus cluster;
    grpc::ClientContext read;
    read.set_deadline(std::chrono::system_clock::now() + 10s);
    CHECK(as_agent->GetClusterStatus(&read, {}, &cluster).ok());
  }

  SECTION("a validator takes Raft messages from the validator itself only") {
    namespace rpb = market::consensus::raft::v1;
    rpb::Envelope envelope;
    envelope.add_messages()->set_from("val-1");
    market::common::v1::Ack ack;
    auto as_exchange = rpb::Raft::NewStub(client.channel("val-0", "ex-1"));
    const auto refused = as_exchange->Send(
        context_with("x-validator-key", client.key("validator-keys", "val-1")).get(), envelope,
        &ack);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() ==
          "the TLS peer 'ex-1' is not validator 'val-1', whose key the call carries");
  }

  SECTION("only the operator changes the network") {
    namespace npb = market::netcontrol::v1;
    npb::ResetAllResponse response;
    const auto operator_key = client.key("accounts", "operator");
    auto as_agent = npb::NetControl::NewStub(client.channel("netproxy", "alice", "control"));
    const auto refused =
        as_agent->ResetAll(context_with("x-api-key", operator_key).get(), {}, &response);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() == "the TLS peer 'alice' is not the operator");
    auto as_operator = npb::NetControl::NewStub(client.channel("netproxy", "operator", "control"));
    CHECK(as_operator->ResetAll(context_with("x-api-key", operator_key).get(), {}, &response).ok());
  }

  SECTION("agents take signals from agents only") {
    namespace ppb = market::peer::v1;
    market::common::v1::Ack ack;
    auto as_exchange = ppb::Peer::NewStub(client.channel("alice", "ex-1"));
    grpc::ClientContext refused_context;
    refused_context.set_deadline(std::chrono::system_clock::now() + 10s);
    const auto refused = as_exchange->SendSignals(&refused_context, {}, &ack);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message() == "the TLS peer 'ex-1' is not an agent of the scenario");
    auto as_agent = ppb::Peer::NewStub(client.channel("alice", "bob"));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    CHECK(as_agent->SendSignals(&context, {}, &ack).ok());
  }

  SECTION("nobody connects without a certificate of the run, or to a node it did not expect") {
    namespace lpb = market::ledger::v1;
    lpb::ClusterStatus cluster;
    auto plaintext = lpb::Ledger::NewStub(client.channel("val-0", ""));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    CHECK(plaintext->GetClusterStatus(&context, {}, &cluster).error_code() ==
          grpc::StatusCode::UNAVAILABLE);
    // ex-1's port, but the client expects val-0's certificate.
    auto impostor = lpb::Ledger::NewStub(client.channel("ex-1", "alice", "grpc", "val-0"));
    grpc::ClientContext wrong;
    wrong.set_deadline(std::chrono::system_clock::now() + 10s);
    CHECK(impostor->GetClusterStatus(&wrong, {}, &cluster).error_code() ==
          grpc::StatusCode::UNAVAILABLE);
  }

  const auto down = marketctl({"down", "--run", run});
  CHECK(down.code == 0);
  CHECK(leftovers(run).empty());
  fs::remove_all(run);
}
