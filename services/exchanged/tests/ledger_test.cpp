// Trade reports to the ledger, against a test double of the Ledger service that follows the
// proto's contract (batch n+1 only after n, a repeated sequence is a duplicate, a skipped one is
// refused with x-expected-sequence) and checks that a repeated sequence always carries the same
// trades. The exchange reports every trade exactly once, in batches numbered from 1; matching goes
// on while the ledger is down, and the batches follow when it is back; an answer lost after the
// commit is retried and applied once; a restart re-sends a batch with exactly the trades it had;
// a follower's leader hint is followed; when the leader dies, the validators are asked who leads.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <condition_variable>
#include <mutex>

#include "harness.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/testing/eventually.h"

using namespace mkt::exchanged;
using namespace mkt::exchanged::test;
namespace lpb = market::ledger::v1;
using Catch::Matchers::ContainsSubstring;

namespace {

class FakeLedger final : public lpb::Ledger::CallbackService {
 public:
  enum class Mode { up, down, lose_answer_once, redirect };

  FakeLedger() {
    server_.add_service(this);
    port_ = server_.start().value();
  }
  ~FakeLedger() override { server_.shutdown(std::chrono::milliseconds(100)); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void set_mode(Mode mode, std::string leader = {}) {
    std::lock_guard lock(mutex_);
    mode_ = mode;
    leader_ = std::move(leader);
  }

  grpc::ServerUnaryReactor* SubmitTradeBatch(grpc::CallbackServerContext* context,
                                             const lpb::TradeBatch* batch,
                                             lpb::SubmitTradeBatchResponse* response) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(handle(*context, *batch, *response));
    return reactor;
  }

  // What GetClusterStatus answers: the leader's address ("" for none known); a dead validator
  // answers nothing (UNAVAILABLE).
  void set_status(std::string leader_address, bool dead = false) {
    std::lock_guard lock(mutex_);
    status_leader_ = std::move(leader_address);
    dead_ = dead;
  }
  grpc::ServerUnaryReactor* GetClusterStatus(grpc::CallbackServerContext* context,
                                             const lpb::GetClusterStatusRequest*,
                                             lpb::ClusterStatus* response) override {
    auto* reactor = context->DefaultReactor();
    std::lock_guard lock(mutex_);
    ++status_calls_;
    if (dead_) {
      reactor->Finish({grpc::StatusCode::UNAVAILABLE, "dead"});
    } else {
      response->set_protocol("raft");
      response->set_leader_address(status_leader_);
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }
  // Batches committed elsewhere (a new leader inherits its predecessor's log).
  void preload(const std::vector<lpb::TradeBatch>& batches) {
    std::lock_guard lock(mutex_);
    for (const auto& batch : batches) {
      committed_.push_back(batch);
      for (const auto& t : batch.trades()) ++committed_trades_[t.trade_id()];
    }
  }
  int status_calls() {
    std::lock_guard lock(mutex_);
    return status_calls_;
  }

  bool wait_for_attempts(int attempts, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return attempts_ >= attempts; });
  }
  // Waits until `trades` trades are committed.
  bool wait_for_trades(std::size_t trades, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return committed_trades_.size() >= trades; });
  }
  struct Seen {
    std::vector<lpb::TradeBatch> committed;
    std::map<std::uint64_t, int> trade_count;  // trade id -> times committed
    int attempts = 0;
    bool inconsistent = false;  // a sequence came back with other trades
  };
  Seen seen() {
    std::lock_guard lock(mutex_);
    return {committed_, committed_trades_, attempts_, inconsistent_};
  }

 private:
  grpc::Status handle(grpc::CallbackServerContext& context, const lpb::TradeBatch& batch,
                      lpb::SubmitTradeBatchResponse& response) {
    std::lock_guard lock(mutex_);
    ++attempts_;
    cv_.notify_all();
    std::string trades;
    for (const auto& t : batch.trades()) trades += t.SerializeAsString();
    auto [first, inserted] = first_contents_.emplace(batch.sequence(), trades);
    if (!inserted && first->second != trades) inconsistent_ = true;
    if (mode_ == Mode::down || dead_) return {grpc::StatusCode::UNAVAILABLE, "no leader"};
    if (mode_ == Mode::redirect) {
      context.AddTrailingMetadata("x-leader-id", "val-1");
      context.AddTrailingMetadata("x-leader-address", leader_);
      return {grpc::StatusCode::FAILED_PRECONDITION, "not the leader"};
    }
    const auto next = committed_.size() + 1;
    if (batch.sequence() > next) {
      context.AddTrailingMetadata("x-expected-sequence", std::to_string(next));
      return {grpc::StatusCode::FAILED_PRECONDITION, "sequence skips ahead"};
    }
    if (batch.sequence() < next) {
      response.set_outcome(lpb::SubmitTradeBatchResponse::OUTCOME_DUPLICATE);
      response.set_index(batch.sequence());
      return grpc::Status::OK;
    }
    committed_.push_back(batch);
    for (const auto& t : batch.trades()) ++committed_trades_[t.trade_id()];
    cv_.notify_all();
    response.set_outcome(lpb::SubmitTradeBatchResponse::OUTCOME_COMMITTED);
    response.set_index(batch.sequence());
    if (mode_ == Mode::lose_answer_once) {
      mode_ = Mode::up;
      return {grpc::StatusCode::UNAVAILABLE, "the answer was lost"};
    }
    return grpc::Status::OK;
  }

  mkt::runtime::RpcServer server_{{}};
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  Mode mode_ = Mode::up;
  std::string leader_;
  std::string status_leader_;
  bool dead_ = false;
  int status_calls_ = 0;
  std::vector<lpb::TradeBatch> committed_;
  std::map<std::uint64_t, int> committed_trades_;
  std::map<std::uint64_t, std::string> first_contents_;
  int attempts_ = 0;
  bool inconsistent_ = false;
};

// Alice rests `n` sells; bob takes them one at a time: n trades.
void trade(TestVenue& venue, int n) {
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  for (int i = 0; i < n; ++i) {
    REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 1), response).ok());
    REQUIRE(bob.submit(limit("STOCK_A", buy, 10000, 1), response).ok());
    REQUIRE(response.events_size() == 2);
  }
}

void check_each_trade_once(const FakeLedger::Seen& seen, std::size_t trades) {
  CHECK_FALSE(seen.inconsistent);
  CHECK(seen.trade_count.size() == trades);
  for (const auto& [id, times] : seen.trade_count) CHECK(times == 1);
  for (std::size_t i = 0; i < seen.committed.size(); ++i) {
    CHECK(seen.committed[i].sequence() == i + 1);
    CHECK(seen.committed[i].exchange_id() == "ex-1");
  }
}

}  // namespace

TEST_CASE("trades reach the ledger in numbered batches, each trade once") {
  FakeLedger ledger;
  TempDir dir;
  TestVenue venue(dir.file("journal"), 64 * 1024, {ledger.address()}, 3);
  trade(venue, 7);
  REQUIRE(ledger.wait_for_trades(7, 10s));
  const auto seen = ledger.seen();
  check_each_trade_once(seen, 7);
  const lpb::TradeReport& first = seen.committed[0].trades(0);
  CHECK(first.trade_id() == 1);
  CHECK(first.symbol() == "STOCK_A");
  CHECK(first.buyer_account() == "bob");
  CHECK(first.seller_account() == "alice");
  CHECK(first.price_ticks() == 10000);
  CHECK(first.notional() == 10000);  // one lot at 100.00
  CHECK(first.aggressor_side() == buy);
  for (const auto& batch : seen.committed) CHECK(batch.trades_size() <= 3);
}

TEST_CASE("matching goes on while the ledger is down, and the batches follow when it is back") {
  FakeLedger ledger;
  ledger.set_mode(FakeLedger::Mode::down);
  TempDir dir;
  TestVenue venue(dir.file("journal"), 64 * 1024, {ledger.address()});
  trade(venue, 5);
  CHECK(venue.on_strand([&](auto&) { return venue.settlement()->unsettled_trades(); }) == 5);
  CHECK_THAT(venue.metrics(), ContainsSubstring("exchange_settlement_failures_total"));
  ledger.set_mode(FakeLedger::Mode::up);
  trade(venue, 2);
  REQUIRE(ledger.wait_for_trades(7, 10s));
  check_each_trade_once(ledger.seen(), 7);
}

TEST_CASE("an answer lost after the commit is retried and applied once") {
  FakeLedger ledger;
  ledger.set_mode(FakeLedger::Mode::lose_answer_once);
  TempDir dir;
  TestVenue venue(dir.file("journal"), 64 * 1024, {ledger.address()});
  trade(venue, 1);
  REQUIRE(ledger.wait_for_trades(1, 10s));
  trade(venue, 1);
  REQUIRE(ledger.wait_for_trades(2, 10s));
  const auto seen = ledger.seen();
  check_each_trade_once(seen, 2);
  CHECK(seen.attempts >= 3);  // batch 1 twice
}

TEST_CASE("after a restart an unacknowledged batch is sent again with the same trades") {
  FakeLedger ledger;
  ledger.set_mode(FakeLedger::Mode::down);
  TempDir dir;
  {
    TestVenue venue(dir.file("journal"), 64 * 1024, {ledger.address()}, 2);
    trade(venue, 5);
    // Once batch 1 was tried it is cut and journalled, with the trades it will always have.
    REQUIRE(ledger.wait_for_attempts(1, 10s));
  }
  ledger.set_mode(FakeLedger::Mode::up);
  TestVenue venue(dir.file("journal"), 64 * 1024, {ledger.address()}, 2);
  REQUIRE(ledger.wait_for_trades(5, 10s));
  check_each_trade_once(ledger.seen(), 5);
}

TEST_CASE("a follower's leader hint is followed") {
  FakeLedger leader;
  FakeLedger follower;
  follower.set_mode(FakeLedger::Mode::redirect, leader.address());
  TempDir dir;
  TestVenue venue(dir.file("journal"), 64 * 1024, {follower.address()});
  trade(venue, 3);
  REQUIRE(leader.wait_for_trades(3, 10s));
  check_each_trade_once(leader.seen(), 3);
  CHECK(follower.seen().committed.empty());
}

TEST_CASE("when the leader dies the validators are asked who leads, and the new one is used") {
  FakeLedger old_leader;
  FakeLedger follower;
  FakeLedger successor;
  TempDir dir;
  // Before the kill: the old leader commits; the others would send there.
  for (FakeLedger* f : {&follower, &successor}) {
    f->set_mode(FakeLedger::Mode::redirect, old_leader.address());
    f->set_status(old_leader.address());
  }
  old_leader.set_status(old_leader.address());
  TestVenue venue(dir.file("journal"), 64 * 1024,
                  {old_leader.address(), follower.address(), successor.address()});
  trade(venue, 2);
  REQUIRE(old_leader.wait_for_trades(2, 10s));
  // Killed. Until the election the followers still name it: the exchange keeps asking.
  old_leader.set_status("", true);
  trade(venue, 1);
  REQUIRE(mkt::testing::eventually([&] { return follower.status_calls() >= 3; }, 10s));
  CHECK(successor.seen().committed.empty());
  // Elected: the first answer that names it sends the batch there.
  successor.set_mode(FakeLedger::Mode::up);
  for (FakeLedger* f : {&follower, &successor}) {
    f->set_status(successor.address());
    if (f != &successor) f->set_mode(FakeLedger::Mode::redirect, successor.address());
  }
  // The successor's ledger starts where the old one's ended, as a replicated log would.
  successor.preload(old_leader.seen().committed);
  REQUIRE(successor.wait_for_trades(3, 10s));
  trade(venue, 2);
  REQUIRE(successor.wait_for_trades(5, 10s));
  check_each_trade_once(successor.seen(), 5);
  CHECK(follower.seen().committed.empty());
}
