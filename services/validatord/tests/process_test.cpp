// validatord as real processes (processes.h): clusters of 3 and 5 validators on loopback with
// fsync on. Checked:
//   - kill -9 of the leader under a steady load of batches: a new leader commits, every batch
//     acknowledged is in the ledger exactly once, and after the old leader restarts every replica
//     holds the same ledger (same hash);
//   - a minority partition through the real netproxy: the majority keeps committing, the
//     minority (which held the leader) commits nothing, the new leader's raft_peer_reachable
//     names the two it cannot reach, and after the heal all converge and reach each other;
//   - a validator down long enough to need a snapshot catches up from one;
//   - an exchange (the real exchanged) reports its trades here, end to end;
//   - only the roster's validators speak Raft, each for itself (its key, its messages);
//   - bad submissions get precise statuses: without an exchange's key, with another exchange's,
//     malformed ones, and forged ones the scenario does not
//     allow (an unknown exchange, account or symbol, a buyer who is the seller, a notional that
//     is not price x quantity, an empty batch), and none changes the ledger.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <map>
#include <set>

#include "market/consensus/raft/v1/raft.grpc.pb.h"
#include "mkt/testing/exchange_client.h"
#include "processes.h"

using namespace mkt::validatord::test;
using Catch::Matchers::ContainsSubstring;

namespace {

// Reads the committed entries from `from` to `to` on validator i; the sequence numbers of
// `exchange`'s batches, in log order.
std::vector<std::uint64_t> committed_sequences(Cluster& cluster, std::size_t i,
                                               const std::string& exchange, std::uint64_t to) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  lpb::StreamCommittedRequest request;
  request.set_from_index(1);
  auto reader = cluster.stub(i).StreamCommitted(&context, request);
  std::vector<std::uint64_t> sequences;
  lpb::CommittedEntry entry;
  std::uint64_t expected_index = 1;
  while (expected_index <= to && reader->Read(&entry)) {
    REQUIRE(entry.index() == expected_index++);  // no gaps in the stream
    if (entry.has_batch() && entry.batch().exchange_id() == exchange) {
      sequences.push_back(entry.batch().sequence());
    }
  }
  context.TryCancel();
  return sequences;
}

struct Load {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> acknowledged{0};  // batches 1..acknowledged are acknowledged
  std::atomic<bool> failed{false};
  std::string failure;
  std::vector<std::pair<Clock::time_point, std::uint64_t>> acked;  // when, and the commit term
  std::mutex mutex;
  std::thread thread;

  Load(Cluster& cluster, std::size_t trades_per_batch) {
    thread = std::thread([this, &cluster, trades_per_batch] {
      LedgerClient client(cluster);
      for (std::uint64_t seq = 1; !stop; ++seq) {
        lpb::SubmitTradeBatchResponse response;
        const auto status = client.submit(make_batch("ex-1", seq, trades_per_batch), response, 15s);
        if (!status.ok()) {
          failure = "batch " + std::to_string(seq) + ": " + status.error_message();
          failed = true;
          return;
        }
        std::lock_guard lock(mutex);
        acked.emplace_back(Clock::now(), response.term());
        acknowledged = seq;
      }
    });
  }
  ~Load() { finish(); }
  void finish() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
  bool reached(std::uint64_t n) const { return acknowledged >= n || failed; }
};

void kill_leader_under_load(std::size_t validators) {
  Cluster cluster({.validators = validators});
  const std::size_t leader = cluster.wait_for_leader();
  Load load(cluster, 10);
  REQUIRE(eventually([&] { return load.reached(30); }, 20s));
  REQUIRE_FALSE(load.failed);

  const auto old_term = cluster.status(leader)->term();
  const auto killed_at = Clock::now();
  const std::uint64_t before = load.acknowledged;
  cluster.kill(leader);
  REQUIRE(eventually([&] { return load.reached(before + 30); }, 20s));
  INFO(load.failure);
  REQUIRE_FALSE(load.failed);
  load.finish();
  Clock::time_point first_after;  // the first batch committed in a newer term
  {
    std::lock_guard lock(load.mutex);
    for (const auto& [at, term] : load.acked) {
      if (term > old_term) {
        first_after = at;
        break;
      }
    }
  }
  REQUIRE(first_after > killed_at);
  const auto new_leader = cluster.wait_for_leader();
  CHECK(new_leader != leader);
  WARN(validators
       << " validators: first commit "
       << std::chrono::duration_cast<std::chrono::milliseconds>(first_after - killed_at).count()
       << " ms after kill -9 of the leader");

  // The old leader comes back on its data directory and catches up.
  cluster.start(leader);
  const std::uint64_t acknowledged = load.acknowledged;
  REQUIRE(eventually([&] { return cluster.converged(acknowledged); }, 20s));
  // Exactly once: every acknowledged batch, in order (the one in flight at the end may be there
  // too, if it committed without its answer). A batch may be in the log twice (a retry proposed
  // again across the leader change); the ledger applies the first and ignores the repeat, which
  // the account check below confirms.
  const auto status = cluster.status(leader);
  REQUIRE(status);
  const auto logged = committed_sequences(cluster, leader, "ex-1", status->applied_index());
  std::vector<std::uint64_t> sequences;  // first occurrences
  for (auto seq : logged) {
    if (sequences.empty() || seq > sequences.back()) {
      sequences.push_back(seq);
    } else {
      CHECK(std::ranges::find(sequences, seq) != sequences.end());  // a repeat, not a new batch
    }
  }
  REQUIRE(sequences.size() >= acknowledged);
  REQUIRE(sequences.size() <= acknowledged + 1);
  for (std::size_t i = 0; i < sequences.size(); ++i) CHECK(sequences[i] == i + 1);
  // Cash and positions follow: alice bought 2 lots at 100 in every trade.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 2s);
  lpb::GetLedgerAccountRequest request;
  request.set_account_id("alice");
  lpb::LedgerAccount alice;
  REQUIRE(cluster.stub(leader).GetAccount(&context, request, &alice).ok());
  const auto trades = static_cast<std::int64_t>(sequences.size() * 10);
  CHECK(alice.cash() == -200 * trades);
  REQUIRE(alice.positions_size() == 1);
  CHECK(alice.positions(0).quantity_lots() == 2 * trades);
  CHECK(status->trades_applied() == static_cast<std::uint64_t>(trades));
}

TEST_CASE("validatord: an entry's commit time is the leader's, the same on every read") {
  Cluster cluster({.validators = 3});
  const std::size_t leader = cluster.wait_for_leader();
  const auto wall = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t started = wall();
  LedgerClient client(cluster);
  lpb::SubmitTradeBatchResponse response;
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(client.submit(make_batch("ex-1", seq, 3), response, 10s).ok());
  }
  const std::int64_t acknowledged = wall();
  const std::uint64_t last = response.index();
  REQUIRE(eventually([&] { return cluster.converged(last); }, 10s));
  // Index -> committed_at_ns, as validator i streams it.
  const auto read = [&](std::size_t i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    lpb::StreamCommittedRequest request;
    request.set_from_index(1);
    auto reader = cluster.stub(i).StreamCommitted(&context, request);
    std::map<std::uint64_t, std::int64_t> times;
    lpb::CommittedEntry entry;
    while (times.size() < last && reader->Read(&entry))
      times[entry.index()] = entry.committed_at_ns();
    context.TryCancel();
    return times;
  };
  const auto first = read(leader);
  REQUIRE(first.size() == last);
  for (const auto& [index, at] : first) {
    INFO("index " << index);
    if (index == 1) continue;  // the leader's no-op, committed before `started`
    CHECK(at >= started);
    CHECK(at <= acknowledged);
  }
  CHECK(read(leader) == first);  // read again: the same times, not the time of the read
  for (std::size_t i = 0; i < 3; ++i) {
    if (i == leader) continue;
    const auto follower = read(i);
    CHECK(follower == read(i));
    // Followers date each entry by the leader's clock (a lost message could make one later).
    for (const auto& [index, at] : follower) CHECK(at >= first.at(index));
  }
}

TEST_CASE("validatord: 3 validators survive kill -9 of the leader under load") {
  kill_leader_under_load(3);
}

TEST_CASE("validatord: 5 validators survive kill -9 of the leader under load") {
  kill_leader_under_load(5);
}

TEST_CASE("validatord: followers publish the leader change on their telemetry stream") {
  namespace tpb = market::telemetry::v1;
  Cluster cluster({.validators = 3});
  const std::size_t leader = cluster.wait_for_leader();
  const auto old_term = cluster.status(leader)->term();
  struct Watch {
    grpc::ClientContext context;
    std::unique_ptr<tpb::Telemetry::Stub> stub;
    std::unique_ptr<grpc::ClientReader<tpb::Event>> reader;
  };
  std::vector<std::unique_ptr<Watch>> watches;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i == leader) continue;
    auto w = std::make_unique<Watch>();
    w->context.set_deadline(std::chrono::system_clock::now() + 20s);
    w->stub = tpb::Telemetry::NewStub(
        mkt::runtime::make_channel(cluster.address(i), {"tester", "", 4 << 20}));
    tpb::StreamEventsRequest request;
    request.add_kinds("leader_change");
    w->reader = w->stub->StreamEvents(&w->context, request);
    watches.push_back(std::move(w));
  }
  // The streams are open once each validator counts its own (taken on its strand).
  const auto streams_open = [](Watch& w) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    tpb::MetricsSnapshot snapshot;
    if (!w.stub->GetMetrics(&context, {}, &snapshot).ok()) return false;
    for (const auto& m : snapshot.metrics()) {
      if (m.name() == "telemetry_streams") return m.gauge() >= 1;
    }
    return false;
  };
  for (auto& w : watches) REQUIRE(eventually([&] { return streams_open(*w); }, 5s));
  cluster.kill(leader);
  for (auto& w : watches) {
    // Losing the leader, then (perhaps after other terms) learning the new one.
    tpb::Event event;
    std::string new_leader;
    std::uint64_t term = 0;
    while (new_leader.empty() && w->reader->Read(&event)) {
      REQUIRE(event.has_leader_change());
      CHECK(event.leader_change().protocol() == "raft");
      CHECK(event.leader_change().term() >= term);
      term = event.leader_change().term();
      new_leader = event.leader_change().leader_id();
      CHECK(event.seq() >= 1);
    }
    CHECK(term > old_term);
    CHECK(new_leader != cluster.name(leader));
    CHECK(new_leader.starts_with("val-"));
    w->context.TryCancel();
  }
}

TEST_CASE("validatord: a minority partition stops committing, the majority goes on, all converge") {
  Cluster cluster({.validators = 5, .through_proxy = true});
  cluster.wait_for_leader();
  LedgerClient client(cluster);
  lpb::SubmitTradeBatchResponse response;
  REQUIRE(client.submit(make_batch("ex-1", 1, 5), response).ok());
  const std::size_t leader = cluster.wait_for_leader();  // the one that committed batch 1
  auto commit_of = [&](std::size_t i) {
    const auto status = cluster.status(i);
    REQUIRE(status);
    return status->commit_index();
  };

  // The minority holds the leader and one other.
  const std::size_t other = (leader + 1) % 5;
  std::vector<std::string> minority{cluster.name(leader), cluster.name(other)};
  std::vector<std::string> majority;
  for (std::size_t i = 0; i < 5; ++i) {
    if (i != leader && i != other) majority.push_back(cluster.name(i));
  }
  cluster.partition({minority, majority});
  // The old leader cannot reach a quorum, so its commit index stays where it is; its companion can
  // learn only from it.
  const auto minority_commit = commit_of(leader);
  REQUIRE(minority_commit >= response.index());

  // The majority elects a leader of its own and commits.
  for (std::uint64_t seq = 2; seq <= 20; ++seq) {
    INFO("batch " << seq);
    REQUIRE(client.submit(make_batch("ex-1", seq, 5), response, 20s).ok());
  }
  const auto majority_leader = cluster.leader();
  REQUIRE(majority_leader);
  CHECK(*majority_leader != leader);
  CHECK(*majority_leader != other);
  // The minority committed nothing more, and its old leader accepts nothing.
  CHECK(commit_of(leader) == minority_commit);
  CHECK(commit_of(other) <= minority_commit);
  CHECK(commit_of(*majority_leader) > minority_commit);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 1s);
  const auto refused =
      cluster.stub(leader).SubmitTradeBatch(&context, make_batch("ex-1", 21, 5), &response);
  CHECK_FALSE(refused.ok());

  // The new leader says which peers its calls cannot reach (the monitor's cut links): the two of
  // the minority, not those of its own side.
  const auto reachable = [&](std::size_t peer, int value) {
    return "raft_peer_reachable{peer=\"" + cluster.name(peer) + "\"} " + std::to_string(value) +
           "\n";
  };
  const auto says = [&](const std::string& line) {
    return cluster.metrics(*majority_leader).find(line) != std::string::npos;
  };
  CHECK(eventually([&] { return says(reachable(leader, 0)) && says(reachable(other, 0)); }, 10s));
  for (std::size_t i = 0; i < 5; ++i) {
    if (i != leader && i != other && i != *majority_leader) CHECK(says(reachable(i, 1)));
  }

  cluster.heal();
  REQUIRE(eventually([&] { return cluster.converged(); }, 20s));
  CHECK(cluster.status(leader)->trades_applied() == 20 * 5);
  CHECK(eventually([&] { return says(reachable(leader, 1)) && says(reachable(other, 1)); }, 10s));
}

TEST_CASE("validatord: a validator that missed compacted entries catches up from a snapshot") {
  Cluster cluster({.validators = 3, .extra_args = {"--compact-entries", "20"}});
  const std::size_t leader = cluster.wait_for_leader();
  const std::size_t follower = (leader + 1) % 3;
  cluster.kill(follower);
  LedgerClient client(cluster);
  lpb::SubmitTradeBatchResponse response;
  for (std::uint64_t seq = 1; seq <= 100; ++seq) {
    REQUIRE(client.submit(make_batch("ex-1", seq, 3), response).ok());
  }
  cluster.start(follower);
  REQUIRE(eventually([&] { return cluster.converged(100); }, 20s));
  CHECK_THAT(cluster.output(follower), ContainsSubstring("installed a snapshot"));
  CHECK(cluster.status(follower)->trades_applied() == 300);
  // A stream from before the compaction point is refused with the first index kept.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 2s);
  lpb::StreamCommittedRequest request;
  request.set_from_index(1);
  auto reader = cluster.stub(follower).StreamCommitted(&context, request);
  lpb::CommittedEntry entry;
  CHECK_FALSE(reader->Read(&entry));
  const auto status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::OUT_OF_RANGE);
  CHECK_THAT(status.error_message(), ContainsSubstring("first index kept"));
}

TEST_CASE("validatord: bad submissions get precise statuses and change nothing") {
  Cluster cluster({.validators = 3, .wal_sync = "none"});
  const std::size_t leader = cluster.wait_for_leader();
  const std::size_t follower = (leader + 1) % 3;
  // The leader may know it leads before the follower has heard from it (UNAVAILABLE then).
  REQUIRE(eventually(
      [&] {
        const auto s = cluster.status(follower);
        return s && s->leader_id() == cluster.name(leader);
      },
      5s));
  // A call with `key` (by default, the batch's exchange's own).
  auto call = [&](std::size_t i, const lpb::TradeBatch& batch, lpb::SubmitTradeBatchResponse& out,
                  std::map<std::string, std::string>* trailing = nullptr,
                  std::optional<std::string> key = std::nullopt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    context.AddMetadata(mkt::runtime::ledger_key_metadata,
                        key.value_or(Cluster::ledger_key(batch.exchange_id())));
    auto status = cluster.stub(i).SubmitTradeBatch(&context, batch, &out);
    if (trailing) {  // copied: the refs point into the context
      trailing->clear();
      for (const auto& [name, value] : context.GetServerTrailingMetadata()) {
        (*trailing)[std::string(name.data(), name.size())] =
            std::string(value.data(), value.size());
      }
    }
    return status;
  };
  lpb::SubmitTradeBatchResponse out;
  std::map<std::string, std::string> trailing;
  // A follower points at the leader.
  auto status = call(follower, make_batch("ex-1", 1, 1), out, &trailing);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(trailing["x-leader-id"] == cluster.name(leader));
  CHECK(trailing["x-leader-address"] == cluster.address(leader));
  // Skipping ahead names the expected sequence.
  status = call(leader, make_batch("ex-1", 3, 1), out, &trailing);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(trailing["x-expected-sequence"] == "1");
  // Malformed batches.
  auto bad = make_batch("ex-1", 1, 1);
  bad.mutable_trades(0)->set_quantity_lots(0);
  CHECK(call(leader, bad, out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  bad = make_batch("", 1, 1);
  CHECK(call(leader, bad, out, nullptr, Cluster::ledger_key("ex-1")).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(call(leader, make_batch("ex-1", 1, 4097), out).error_code() ==
        grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Well formed, but not what the scenario allows: each refused, naming why.
  const auto refused = [&](const lpb::TradeBatch& forged, const std::string& why) {
    const auto answer = call(leader, forged, out);
    CHECK(answer.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(answer.error_message(), ContainsSubstring(why));
  };
  // Only an exchange's own key submits its batches.
  auto status_of = [&](const lpb::TradeBatch& batch, const std::string& key) {
    return call(leader, batch, out, nullptr, key);
  };
  status = status_of(make_batch("ex-1", 1, 1), "");
  CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK_THAT(status.error_message(), ContainsSubstring("x-ledger-key"));
  CHECK(status_of(make_batch("ex-1", 1, 1), Cluster::ledger_key("ex-1") + "x").error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
  status = status_of(make_batch("ex-1", 1, 1), Cluster::ledger_key("ex-2"));
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(status.error_message() == "ex-2's key cannot submit batches of 'ex-1'");
  status = status_of(make_batch("ex-9", 1, 1), Cluster::ledger_key("ex-1"));
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  refused(make_batch("ex-1", 1, 0), "a batch holds at least one trade");
  bad = make_batch("ex-1", 1, 1);
  bad.mutable_trades(0)->set_price_ticks(1);
  bad.mutable_trades(0)->set_quantity_lots(1);
  bad.mutable_trades(0)->set_notional(100'000'000);
  refused(bad, "trade 0 (id 1): notional 100000000 is not 1 ticks x 1 lots x 1 per tick-lot");
  bad = make_batch("ex-1", 1, 1);
  bad.mutable_trades(0)->set_seller_account("mallory");
  refused(bad, "account 'mallory' is not in the scenario");
  bad.mutable_trades(0)->set_seller_account("alice");
  refused(bad, "the buyer is the seller");
  bad = make_batch("ex-1", 1, 1);
  bad.mutable_trades(0)->set_symbol("T");
  refused(bad, "symbol 'T' is not listed on ex-1");
  // Nothing applied; then a good batch commits once and its retry is a duplicate.
  CHECK(cluster.status(leader)->trades_applied() == 0);
  REQUIRE(call(leader, make_batch("ex-1", 1, 2), out).ok());
  CHECK(out.outcome() == lpb::SubmitTradeBatchResponse::OUTCOME_COMMITTED);
  const auto index = out.index();
  REQUIRE(call(leader, make_batch("ex-1", 1, 2), out).ok());
  CHECK(out.outcome() == lpb::SubmitTradeBatchResponse::OUTCOME_DUPLICATE);
  CHECK(out.index() == index);
  CHECK(cluster.status(leader)->trades_applied() == 2);
  // Trade lookups.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 2s);
  lpb::GetTradeRequest request;
  request.set_exchange_id("ex-1");
  request.set_trade_id(2);
  lpb::TradeReport trade;
  REQUIRE(cluster.stub(leader).GetTrade(&context, request, &trade).ok());
  CHECK(trade.buyer_account() == "alice");
  CHECK(trade.exchange_id() == "ex-1");
  grpc::ClientContext missing;
  missing.set_deadline(std::chrono::system_clock::now() + 2s);
  request.set_trade_id(99);
  CHECK(cluster.stub(leader).GetTrade(&missing, request, &trade).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("validatord: a real exchange reports its trades to the ledger, end to end") {
  using namespace mkt::testing::exchange_client;
  Cluster cluster({.validators = 3, .wal_sync = "none"});
  cluster.wait_for_leader();
  const std::string dir = temp_dir("exchange");
  std::ofstream(dir + "/accounts") << accounts_text();
  mkt::testing::ChildProcess exchange({EXCHANGED_BINARY, "--config", cluster.scenario(), "--node",
                                       "ex-1", "--journal", dir + "/journal", "--accounts",
                                       dir + "/accounts", "--ledger", cluster.addresses(),
                                       "--ledger-keys", cluster.ledger_keys()});
  const auto line = exchange.wait_for_line("listening on port ([0-9]+)", 20s);
  REQUIRE(line);
  Client alice("127.0.0.1:" + (*line)[1], alice_key);
  Client bob("127.0.0.1:" + (*line)[1], bob_key);
  market::exchange::v1::OrderResponse response;
  REQUIRE(bob.submit(limit("S", sell, 10000, 7), response).ok());
  REQUIRE(alice.submit(limit("S", buy, 10000, 7), response).ok());
  // The trade reaches every validator's ledger: alice holds 7 lots on ex-1.
  auto alice_position = [&](std::size_t i) -> std::int64_t {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 1s);
    lpb::GetLedgerAccountRequest request;
    request.set_account_id("alice");
    lpb::LedgerAccount account;
    if (!cluster.stub(i).GetAccount(&context, request, &account).ok()) return -1;
    for (const auto& p : account.positions()) {
      if (p.exchange_id() == "ex-1" && p.symbol() == "S") return p.quantity_lots();
    }
    return 0;
  };
  INFO(exchange.output());
  REQUIRE(eventually(
      [&] { return alice_position(0) == 7 && alice_position(1) == 7 && alice_position(2) == 7; },
      20s));
  std::filesystem::remove_all(dir);
}

}  // namespace

TEST_CASE("validatord: only a validator of the roster speaks Raft, and only for itself") {
  Cluster cluster({.validators = 3, .wal_sync = "none"});
  const std::size_t leader = cluster.wait_for_leader();
  const auto term = cluster.status(leader)->term();
  auto raft = market::consensus::raft::v1::Raft::NewStub(mkt::runtime::make_channel(
      cluster.address(leader), {.node_id = "test", .proxy_address = ""}));
  // A vote request of a much later term: stepped, it would depose the leader.
  market::consensus::raft::v1::Envelope envelope;
  auto& vote = *envelope.add_messages();
  vote.set_type(market::consensus::raft::v1::MESSAGE_TYPE_VOTE);
  vote.set_from(cluster.name((leader + 1) % 3));
  vote.set_to(cluster.name(leader));
  vote.set_term(term + 100);
  vote.set_log_term(term + 100);
  vote.set_index(1'000'000);
  const auto send = [&](const std::string& key) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 2s);
    if (!key.empty()) context.AddMetadata(mkt::runtime::validator_key_metadata, key);
    market::common::v1::Ack ack;
    return raft->Send(&context, envelope, &ack);
  };
  CHECK(send("").error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(send(Cluster::ledger_key("ex-1")).error_code() == grpc::StatusCode::UNAUTHENTICATED);
  const auto other = send(Cluster::validator_key(cluster.name((leader + 2) % 3)));
  CHECK(other.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(other.error_message(), ContainsSubstring("cannot send messages from"));
  // Nothing was stepped: the leader still leads in its term, and counted what it refused.
  CHECK(cluster.status(leader)->term() == term);
  CHECK(cluster.leader() == leader);
  CHECK_THAT(cluster.metrics(leader), ContainsSubstring("raft_rejected_messages_total 3\n"));
}
