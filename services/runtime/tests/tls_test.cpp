// Mutual TLS: the certificates marketctl makes for a run, and who may connect to whom with them.
#include "mkt/runtime/tls.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "echo.grpc.pb.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/server.h"
#include "mkt/runtime/unary.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mkt::runtime::TlsIdentity;

// Answers Say with the node id the caller's certificate names ("-" without TLS).
class WhoAmI final : public mkt::test::v1::Echo::CallbackService {
 public:
  grpc::ServerUnaryReactor* Say(grpc::CallbackServerContext* context,
                                const mkt::test::v1::SayRequest*,
                                mkt::test::v1::SayReply* reply) override {
    reply->set_text(mkt::runtime::peer_node_id(*context).value_or("-"));
    return mkt::runtime::answer_now(context, grpc::Status::OK);
  }
};

struct Folder {
  fs::path dir = fs::temp_directory_path() / ("tls-test-" + std::to_string(::getpid()));
  Folder() { fs::remove_all(dir); }
  ~Folder() { fs::remove_all(dir); }
};

// A run's certificates for `subjects` in `dir`, made or renewed.
void make(const fs::path& dir, const std::vector<mkt::runtime::CertificateSubject>& subjects,
          std::chrono::hours valid_for = std::chrono::hours(24 * 30)) {
  const auto made = mkt::runtime::write_certificates(dir, subjects, valid_for);
  INFO((made ? std::string() : made.error()));
  REQUIRE(made.has_value());
}

// A validator and an exchange.
const std::vector<mkt::runtime::CertificateSubject> pair{{.node_id = "val-1", .role = "validator"},
                                                         {.node_id = "ex-1", .role = "exchange"}};

std::string text(const fs::path& path) {
  return mkt::runtime::read_file(path.string(), 1 << 16).value_or("");
}

std::shared_ptr<const TlsIdentity> identity(const fs::path& dir, const std::string& node) {
  auto loaded = mkt::runtime::load_identity(dir, node);
  REQUIRE(loaded.has_value());
  return std::make_shared<const TlsIdentity>(std::move(*loaded));
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Say through a channel with `tls` expecting `peer`: the status and the answer.
std::pair<grpc::Status, std::string> say(int port, std::shared_ptr<const TlsIdentity> tls,
                                         const std::string& peer) {
  auto stub = mkt::test::v1::Echo::NewStub(mkt::runtime::make_channel(
      "127.0.0.1:" + std::to_string(port),
      {.node_id = "client", .proxy_address = {}, .tls = std::move(tls), .peer = peer}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  mkt::test::v1::SayRequest request;
  mkt::test::v1::SayReply reply;
  const grpc::Status status = stub->Say(&context, request, &reply);
  return {status, reply.text()};
}

}  // namespace

TEST_CASE("tls: a run's folder holds a CA and a key and certificate per node, made once") {
  Folder folder;
  const auto tls = folder.dir / "tls";
  make(tls, pair);
  for (const auto* leaf : {"ca.pem", "ca.key", "val-1.pem", "val-1.key", "ex-1.pem", "ex-1.key"}) {
    CHECK(fs::exists(tls / leaf));
  }
  // Keys are secrets.
  CHECK(mode_of(tls / "ca.key") == 0600);
  CHECK(mode_of(tls / "val-1.key") == 0600);
  const auto before = text(tls / "val-1.pem");
  REQUIRE(!before.empty());
  // A second call keeps what is there and adds a newcomer, signed by the same CA.
  make(tls, {{.node_id = "val-1", .role = "validator"}, {.node_id = "alice", .role = "agent"}});
  CHECK(text(tls / "val-1.pem") == before);
  CHECK(fs::exists(tls / "alice.pem"));
  CHECK(mkt::runtime::role_name("validator") == "validator.role");

  SECTION("what would expire within a day is made again") {
    const auto ca = text(tls / "ca.pem");
    // Valid for an hour: the next call replaces the CA and so every certificate.
    const auto brief = folder.dir / "brief";
    make(brief, {pair[0]}, std::chrono::hours(1));
    const auto first = text(brief / "val-1.pem");
    make(brief, {pair[0]});
    CHECK(text(brief / "val-1.pem") != first);
    // A certificate of another CA in the folder is reissued under this one.
    fs::copy_file(brief / "val-1.pem", tls / "val-1.pem", fs::copy_options::overwrite_existing);
    fs::copy_file(brief / "val-1.key", tls / "val-1.key", fs::copy_options::overwrite_existing);
    make(tls, {pair[0]});
    CHECK(text(tls / "val-1.pem") != text(brief / "val-1.pem"));
    CHECK(text(tls / "ca.pem") == ca);
  }
  SECTION("a missing node's identity is named") {
    const auto missing = mkt::runtime::load_identity(tls, "bob");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().find("bob.pem") != std::string::npos);
    CHECK(missing.error().find("node 'bob'") != std::string::npos);
  }
}

TEST_CASE("tls: only a client of the run's CA connects, and only to the server it expects") {
  Folder folder;
  const auto tls = folder.dir / "tls";
  make(tls, pair);
  WhoAmI service;
  mkt::runtime::RpcServer server({.listen_address = "127.0.0.1:0", .tls = identity(tls, "val-1")});
  server.add_service(&service);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  SECTION("the server reads the caller's node id from its certificate") {
    const auto [status, who] = say(port, identity(tls, "ex-1"), "val-1");
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(who == "ex-1");
  }
  SECTION("a client may expect any node of a role by the role's name") {
    const auto [status, who] = say(port, identity(tls, "ex-1"), "validator.role");
    REQUIRE(status.ok());
    CHECK(who == "ex-1");
  }
  SECTION("a server that is not the expected node is refused by the client") {
    CHECK(say(port, identity(tls, "ex-1"), "val-2").first.error_code() ==
          grpc::StatusCode::UNAVAILABLE);
    CHECK(say(port, identity(tls, "ex-1"), "exchange.role").first.error_code() ==
          grpc::StatusCode::UNAVAILABLE);
  }
  SECTION("a plaintext client is refused") {
    CHECK(say(port, nullptr, "").first.error_code() == grpc::StatusCode::UNAVAILABLE);
  }
  SECTION("a certificate of another CA is refused, both ways") {
    const auto other = folder.dir / "other";
    make(other, pair);
    CHECK(say(port, identity(other, "ex-1"), "val-1").first.error_code() ==
          grpc::StatusCode::UNAVAILABLE);
    // A client of the other CA's run does not trust this server either.
    auto mixed = std::make_shared<TlsIdentity>(*identity(tls, "ex-1"));
    mixed->ca_pem = identity(other, "ex-1")->ca_pem;
    CHECK(say(port, mixed, "val-1").first.error_code() == grpc::StatusCode::UNAVAILABLE);
  }
  server.shutdown(0ms);
}

TEST_CASE("tls: a plaintext server names no peer, and a refusal names who called") {
  WhoAmI service;
  mkt::runtime::RpcServer server({});
  server.add_service(&service);
  REQUIRE(server.start().has_value());
  const auto [status, who] = say(server.port(), nullptr, "");
  REQUIRE(status.ok());
  CHECK(who == "-");
  server.shutdown(0ms);
  const grpc::Status refused = mkt::runtime::peer_refused("alice", "the operator");
  CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(refused.error_message() == "the TLS peer 'alice' is not the operator");
}
