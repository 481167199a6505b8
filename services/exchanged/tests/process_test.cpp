// exchanged as a real process, journalling with fsync: two accounts cross and both get their fills
// (the maker on its order session), a market data subscriber follows every change without a gap,
// the metrics endpoint counts the trades; then kill -9 and a restart on the same journal serve the
// identical book and accounts, and count the venue's trades and commands on from the journal. A
// second test kills the process while a client is submitting as fast as it can: every order
// acknowledged before the kill is there after the restart, and at most the one in flight besides.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <fstream>

#include "harness.h"
#include "mkt/runtime/http_client.h"
#include "mkt/testing/child_process.h"

using namespace mkt::exchanged;
using namespace mkt::exchanged::test;
using Catch::Matchers::ContainsSubstring;
using mkt::testing::ChildProcess;

namespace {

struct Exchanged {
  std::unique_ptr<ChildProcess> process;
  std::string address;
  int metrics_port = 0;
};

// GET /metrics from the process's metrics port.
std::string scrape(int port) {
  return mkt::runtime::http_get("127.0.0.1", port, "/metrics", std::chrono::seconds(5)).value();
}

Exchanged start(const TempDir& dir) {
  std::ofstream(dir.file("accounts")) << accounts_text();
  Exchanged out;
  out.process = std::make_unique<ChildProcess>(std::vector<std::string>{
      EXCHANGED_BINARY, "--config", NETMARKET_EXCHANGED_TESTS "/venue.yaml", "--node", "ex-1",
      "--journal", dir.file("journal"), "--accounts", dir.file("accounts")});
  const auto line =
      out.process->wait_for_line("listening on port ([0-9]+).*metrics on port ([0-9]+)", 20s);
  INFO(out.process->output());
  REQUIRE(line);
  out.address = "127.0.0.1:" + (*line)[1];
  out.metrics_port = std::stoi((*line)[2]);
  return out;
}

struct State {
  Levels bids, asks;
  std::uint64_t seq = 0;
  std::string alice, bob;  // serialized AccountState
};

State state_of(const std::string& address) {
  Client alice(address, alice_key);
  Client bob(address, bob_key);
  State out;
  const auto snapshot = snapshot_of(alice, "STOCK_A").snapshot();
  out.bids = levels_of(snapshot.bids());
  out.asks = levels_of(snapshot.asks());
  out.seq = snapshot.seq();
  pb::AccountState account;
  REQUIRE(alice.account(account).ok());
  out.alice = account.SerializeAsString();
  REQUIRE(bob.account(account).ok());
  out.bob = account.SerializeAsString();
  return out;
}

}  // namespace

TEST_CASE("exchanged process: a cross with fills on both sides, gap-free market data, kill -9") {
  TempDir dir;
  Exchanged exchange = start(dir);
  Client alice(exchange.address, alice_key);
  Client bob(exchange.address, bob_key);

  grpc::ClientContext md_context;
  md_context.set_deadline(std::chrono::system_clock::now() + 30s);
  pb::MarketDataRequest md_request;
  md_request.add_symbols("STOCK_A");
  auto md = bob.stub().StreamMarketData(&md_context, md_request);
  FollowedBook followed;
  pb::MarketDataEvent md_event;
  REQUIRE(md->Read(&md_event));
  followed.apply(md_event);
  CHECK(followed.seq == 0);

  BlockingSession session(alice, 30s);
  pb::SessionRequest request;
  for (int i = 0; i < 5; ++i) {
    request.set_request_id(static_cast<std::uint64_t>(i + 1));
    *request.mutable_submit() = limit("STOCK_A", sell, 10000 + i, 10);
    REQUIRE(session.send(request));
  }
  pb::SessionEvent event;
  for (int i = 0; i < 5; ++i) CHECK(session.next().event().has_accepted());

  pb::OrderResponse response;
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10002, 25), response).ok());
  std::int64_t bob_filled = 0;
  for (const auto& e : response.events()) bob_filled += e.has_fill() ? e.fill().quantity_lots() : 0;
  CHECK(bob_filled == 25);
  int alice_filled = 0;
  for (int i = 0; i < 3; ++i) {
    event = session.next();
    REQUIRE(event.event().has_fill());
    CHECK(event.event().fill().liquidity() == pb::LIQUIDITY_MAKER);
    alice_filled += static_cast<int>(event.event().fill().quantity_lots());
  }
  CHECK(alice_filled == 25);
  REQUIRE(bob.submit(limit("STOCK_A", buy, 9990, 7), response).ok());

  // 5 asks, 3 trades with 3 level changes, 1 bid.
  while (followed.seq < 12) {
    REQUIRE(md->Read(&md_event));
    followed.apply(md_event);
  }
  CHECK_FALSE(followed.gap);
  CHECK(followed.trades == 3);
  CHECK(followed.ask_levels() == Levels{{10002, 5}, {10003, 10}, {10004, 10}});
  CHECK(followed.bid_levels() == Levels{{9990, 7}});

  const State before = state_of(exchange.address);
  CHECK(before.asks == followed.ask_levels());
  const std::string metrics = scrape(exchange.metrics_port);
  CHECK_THAT(metrics, ContainsSubstring("exchange_trades_total{symbol=\"STOCK_A\"} 3\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_order_sessions 1\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_journal_batch_seconds_bucket"));
  const std::string submits = "exchange_commands_total{kind=\"submit\"} ";
  const auto at = metrics.find(submits);
  REQUIRE(at != std::string::npos);
  const std::string submits_before =
      metrics.substr(at + submits.size(), metrics.find('\n', at) - at - submits.size());
  CHECK(submits_before != "0");
  exchange.process->kill();
  CHECK_FALSE(md->Read(&md_event));

  Exchanged restarted = start(dir);
  const State after = state_of(restarted.address);
  CHECK(after.bids == before.bids);
  CHECK(after.asks == before.asks);
  CHECK(after.seq == before.seq);
  CHECK(after.alice == before.alice);
  CHECK(after.bob == before.bob);
  // The venue's history counts on from the journal; what a process counts for itself starts anew.
  const std::string counted = scrape(restarted.metrics_port);
  CHECK_THAT(counted, ContainsSubstring("exchange_trades_total{symbol=\"STOCK_A\"} 3\n"));
  CHECK_THAT(counted, ContainsSubstring("exchange_commands_total{kind=\"submit\"} " +
                                        submits_before + "\n"));
  CHECK_THAT(counted, ContainsSubstring("exchange_order_sessions 0\n"));
  CHECK(restarted.process->terminate() == 0);
}

TEST_CASE("exchanged process: kill -9 under load loses no acknowledged order") {
  TempDir dir;
  Exchanged exchange = start(dir);
  std::atomic<std::uint64_t> last_acked{0};
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::thread submitter([&] {
    Client alice(exchange.address, alice_key);
    for (int i = 0;; ++i) {
      pb::OrderResponse response;
      // Resting orders far from each other's prices: every one stays open, up to the limit.
      const auto status = alice.submit(
          limit("STOCK_B", i % 2 ? sell : buy, i % 2 ? 6000 + i % 50 : 4000 - i % 50, 1), response);
      if (!status.ok()) break;
      last_acked = response.events(0).accepted().order_id();
      if (++acked == 95) break;  // the risk limit is 100 open orders
    }
    stop = true;
  });
  // Kill once some orders are in, while the client is still submitting.
  while (acked < 30 && !stop) std::this_thread::yield();
  exchange.process->kill();
  submitter.join();
  const std::uint64_t acknowledged = last_acked;
  INFO("acknowledged up to order " << acknowledged);
  REQUIRE(acknowledged >= 30);

  Exchanged restarted = start(dir);
  Client alice(restarted.address, alice_key);
  pb::AccountState account;
  REQUIRE(alice.account(account).ok());
  const auto open = static_cast<std::uint64_t>(account.open_orders_size());
  CHECK(open >= acknowledged);
  CHECK(open <= acknowledged + 1);  // the order in flight may have reached the disk
  for (std::uint64_t id = 1; id <= acknowledged; ++id) {
    pb::OrderState state;
    REQUIRE(alice.get_order(id, state).ok());
    CHECK(state.status() == pb::OrderState::STATUS_RESTING);
  }
  CHECK(restarted.process->terminate() == 0);
}
