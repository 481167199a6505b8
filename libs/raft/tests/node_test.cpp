// Paper tests of the Raft node: each case drives a small in-memory cluster (cluster.h) by hand,
// delivering messages at once and in order unless the case drops or cuts some, and names the
// section of the Raft paper or Ongaro's thesis it checks.

#include <catch2/catch_test_macros.hpp>
#include <deque>
#include <set>

#include "cluster.h"

namespace mkt::raft {
namespace {

using testing::Cluster;

// Synchronous delivery with cut links.
struct Harness {
  explicit Harness(std::size_t size, std::function<void(Config&)> tweak = {})
      : cluster(
            size, 7, [](const std::string& what) { FAIL(what); }, std::move(tweak)) {}

  void cut(NodeId a, NodeId b) {
    cuts.insert({a, b});
    cuts.insert({b, a});
  }
  void isolate(NodeId a) {
    for (NodeId b : cluster.ids()) {
      if (b != a) cut(a, b);
    }
  }
  void heal() { cuts.clear(); }

  // Delivers everything, and whatever that causes, until nothing is left in flight.
  void settle(std::vector<Message> start = {}) {
    std::deque<Message> queue(start.begin(), start.end());
    for (NodeId id : cluster.ids()) {
      for (auto& m : cluster.process(id)) queue.push_back(std::move(m));
    }
    while (!queue.empty()) {
      Message m = std::move(queue.front());
      queue.pop_front();
      ++delivered[m.type];
      if (cuts.contains({m.from, m.to}) || (drop && drop(m))) continue;
      for (auto& next : cluster.deliver(m)) queue.push_back(std::move(next));
    }
  }
  void tick(NodeId id, int times = 1) {
    for (int i = 0; i < times; ++i) cluster.node(id).tick();
    settle();
  }
  void elect(NodeId id) {
    cluster.node(id).campaign();
    settle();
    REQUIRE(cluster.node(id).role() == Role::leader);
  }
  // Ticks the given nodes together (their leases expire, then one campaigns) until one leads.
  NodeId elect_among(std::vector<NodeId> ids) {
    for (int round = 0; round < 100; ++round) {
      for (NodeId id : ids) cluster.node(id).tick();
      settle();
      for (NodeId id : ids) {
        if (cluster.node(id).role() == Role::leader) return id;
      }
    }
    FAIL("no leader among the given nodes");
    return no_node;
  }
  std::uint64_t propose(NodeId id, std::string data) {
    auto index = cluster.node(id).propose(std::move(data));
    REQUIRE(index.has_value());
    settle();
    return *index;
  }

  Cluster cluster;
  std::set<std::pair<NodeId, NodeId>> cuts;
  std::function<bool(const Message&)> drop;
  std::map<MessageType, int> delivered;
};

TEST_CASE("raft: a campaign wins with a majority and the leader commits its empty entry") {
  // Reference: section 5.2 (election) and 5.4.2 (a new leader commits an entry of its term).
  Harness h(3);
  h.elect(1);
  for (NodeId id : h.cluster.ids()) {
    CHECK(h.cluster.node(id).leader() == 1);
    CHECK(h.cluster.node(id).term() == 1);
    CHECK(h.cluster.node(id).log().committed() == 1);
    CHECK(h.cluster.state(id).index == 1);
  }
}

TEST_CASE("raft: a single node elects itself and commits alone") {
  Harness h(1);
  h.tick(1, 20);
  REQUIRE(h.cluster.node(1).role() == Role::leader);
  const auto index = h.propose(1, "a");
  CHECK(h.cluster.node(1).log().committed() == index);
}

TEST_CASE("raft: an election timeout makes a follower campaign") {
  // Reference: section 5.2; the timeout is random in [election, 2 * election) ticks.
  Harness h(3);
  h.tick(2, 19);
  CHECK(h.cluster.node(2).role() == Role::leader);
}

TEST_CASE("raft: pre-vote keeps an isolated node from raising its term") {
  // Reference: thesis 9.6. Without pre-vote the isolated node's term would grow with each timeout
  // and depose the leader when it returns.
  Harness h(3);
  h.elect(1);
  h.isolate(3);
  h.tick(3, 100);
  CHECK(h.cluster.node(3).term() == 1);
  CHECK(h.cluster.node(3).role() == Role::pre_candidate);
  h.heal();
  h.tick(1, 1);  // a heartbeat brings it back
  CHECK(h.cluster.node(3).role() == Role::follower);
  CHECK(h.cluster.node(1).role() == Role::leader);
  CHECK(h.cluster.node(1).term() == 1);
}

TEST_CASE("raft: without pre-vote an isolated node raises its term and deposes the leader") {
  // The counterpart of the case above: what pre-vote prevents.
  Harness h(3, [](Config& c) {
    c.pre_vote = false;
    c.check_quorum = false;
  });
  h.elect(1);
  h.isolate(3);
  h.tick(3, 100);
  CHECK(h.cluster.node(3).term() > 1);
  h.heal();
  h.tick(3, 20);  // its next campaign, at a term above the leader's, succeeds
  CHECK(h.cluster.node(1).role() == Role::follower);
  CHECK(h.cluster.node(3).role() == Role::leader);
}

TEST_CASE("raft: check-quorum makes a leader cut off from the majority step down") {
  // Reference: thesis 6.2.
  Harness h(3);
  h.elect(1);
  h.isolate(1);
  h.tick(1, 10);  // the followers were heard from in the first timeout...
  CHECK(h.cluster.node(1).role() == Role::leader);
  h.tick(1, 10);  // ...not in the second
  CHECK(h.cluster.node(1).role() == Role::follower);
  CHECK(h.cluster.node(1).leader() == no_node);
}

TEST_CASE("raft: the leader lease ignores a vote request while the leader is heard from") {
  // Reference: thesis 6.2 and 4.2.3: a node with a current leader disregards RequestVote.
  Harness h(3, [](Config& c) { c.pre_vote = false; });
  h.elect(1);
  h.cut(1, 3);  // 3 cannot hear the leader and will campaign; 2 still hears it
  h.tick(3, 20);
  CHECK(h.cluster.node(1).role() == Role::leader);
  CHECK(h.cluster.node(2).leader() == 1);
  CHECK(h.cluster.node(2).term() == 1);
}

TEST_CASE("raft: a vote needs a log at least as up to date") {
  // Reference: section 5.4.1.
  Harness h(3);
  h.elect(1);
  h.cut(1, 3);
  h.propose(1, "x");  // 1 and 2 hold it, 3 does not
  h.heal();
  h.isolate(1);
  // Whoever times out first, only 2 can win: 2 refuses 3, whose log is older.
  CHECK(h.elect_among({2, 3}) == 2);
  CHECK(h.cluster.node(3).leader() == 2);
}

TEST_CASE("raft: the leader replicates in batches and pipelines appends") {
  // Reference: section 5.3. Many proposals in one Ready go out as one append per follower.
  Harness h(3);
  h.elect(1);
  h.delivered.clear();
  for (int i = 0; i < 100; ++i) REQUIRE(h.cluster.node(1).propose("e" + std::to_string(i)));
  h.settle();
  CHECK(h.delivered[MessageType::append] <= 4);  // one batch each, plus a commit update each
  for (NodeId id : h.cluster.ids()) CHECK(h.cluster.node(id).log().committed() == 101);
}

TEST_CASE("raft: a follower that lost entries is caught up by probing back") {
  // Reference: section 5.3: on a rejected append the leader moves next back (here a whole term
  // at a time with the follower's hint) until the logs match.
  Harness h(3);
  h.elect(1);
  h.isolate(3);
  for (int i = 0; i < 50; ++i) h.propose(1, "a" + std::to_string(i));
  h.heal();
  h.tick(1, 1);
  CHECK(h.cluster.node(3).log().committed() == 51);
  h.cluster.check_logs();
}

TEST_CASE("raft: a deposed leader's uncommitted entries are replaced") {
  // Reference: section 5.3, figure 7: conflicting entries after the commit index are overwritten.
  Harness h(3);
  h.elect(1);
  h.isolate(1);
  for (int i = 0; i < 5; ++i) REQUIRE(h.cluster.node(1).propose("lost" + std::to_string(i)));
  h.settle();
  CHECK(h.cluster.node(1).log().last_index() == 6);
  CHECK(h.cluster.node(1).log().committed() == 1);
  const NodeId next = h.elect_among({2, 3});
  h.propose(next, "kept");
  h.heal();
  h.tick(next, 1);
  CHECK(h.cluster.node(1).role() == Role::follower);
  CHECK(h.cluster.node(1).log().committed() == 3);
  CHECK(h.cluster.node(1).log().last_index() == 3);
  CHECK(h.cluster.applied_by().contains("kept"));
  CHECK_FALSE(h.cluster.applied_by().contains("lost0"));
  h.cluster.check_logs();
}

TEST_CASE("raft: entries of an earlier term commit only under one of the current term") {
  // Reference: section 5.4.2, figure 8. Node 1 holds an entry of term 1 that nobody else has, then
  // wins term 2. Once that old entry is on a majority it is still not committed by counting; it
  // commits only with the leader's entry of term 2 after it.
  Harness h(3, [](Config& c) {
    c.pre_vote = false;
    c.check_quorum = false;
    c.message_bytes_max = 1;  // one entry per append, so the two can be told apart
  });
  h.elect(1);
  h.isolate(1);
  REQUIRE(h.cluster.node(1).propose("old"));  // index 2, term 1, on node 1 only
  h.settle();
  h.cluster.crash(1);  // back as a follower that still holds it
  h.cluster.start(1);
  h.heal();
  // Entry 3 (the new leader's) is withheld from a follower once it holds the old entry 2.
  h.drop = [&h](const Message& m) {
    return m.type == MessageType::append && !m.entries.empty() && m.entries.back().index == 3 &&
           h.cluster.node(m.to).log().matches(2, 1);
  };
  h.cluster.node(1).campaign();
  h.settle();
  REQUIRE(h.cluster.node(1).role() == Role::leader);
  REQUIRE(h.cluster.node(1).term() == 2);
  CHECK(h.cluster.node(2).log().matches(2, 1));
  CHECK(h.cluster.node(3).log().matches(2, 1));
  CHECK(h.cluster.node(1).log().committed() == 1);  // on all three, yet not committed
  h.drop = {};
  h.tick(1, 1);
  CHECK(h.cluster.node(1).log().committed() == 3);
  CHECK(h.cluster.applied_by().contains("old"));
}

TEST_CASE("raft: nothing is acknowledged before it is persisted") {
  // Reference: section 5.1 and figure 2: a vote or an append acknowledgement comes in the same
  // Ready as the state it promises, so it is sent only after that state is on disk.
  Harness h(3);
  h.elect(1);
  auto index = h.cluster.node(1).propose("p");
  REQUIRE(index);
  auto ready = h.cluster.node(1).ready();
  REQUIRE(ready.entries.size() == 1);
  REQUIRE(ready.messages.size() == 2);
  h.cluster.node(1).advance(ready);
  for (const auto& m : ready.messages) {
    REQUIRE(h.cluster.node(m.to).step(m));
    auto follower = h.cluster.node(m.to).ready();
    CHECK(follower.entries.size() == 1);  // to persist...
    REQUIRE(follower.messages.size() == 1);
    CHECK(follower.messages[0].type == MessageType::append_response);  // ...before this goes
    h.cluster.node(m.to).advance(follower);
  }
}

TEST_CASE("raft: the leader counts itself only after its own entries are persisted") {
  Harness h(1);
  h.tick(1, 20);
  auto index = h.cluster.node(1).propose("p");
  REQUIRE(index);
  auto ready = h.cluster.node(1).ready();
  CHECK(ready.committed.empty());
  CHECK(h.cluster.node(1).log().committed() < *index);
  h.cluster.node(1).advance(ready);
  CHECK(h.cluster.node(1).log().committed() == *index);
}

TEST_CASE("raft: leadership transfer hands over to an up-to-date follower") {
  // Reference: thesis 3.10.
  Harness h(3);
  h.elect(1);
  h.propose(1, "before");
  REQUIRE(h.cluster.node(1).transfer_leadership(3));
  h.settle();
  CHECK(h.cluster.node(3).role() == Role::leader);
  CHECK(h.cluster.node(1).leader() == 3);
  h.propose(3, "after");
  CHECK(h.cluster.node(1).log().committed() == h.cluster.node(3).log().committed());
}

TEST_CASE("raft: leadership transfer to a lagging follower catches it up first") {
  Harness h(3);
  h.elect(1);
  h.isolate(3);
  for (int i = 0; i < 10; ++i) h.propose(1, "x" + std::to_string(i));
  h.heal();
  REQUIRE(h.cluster.node(1).transfer_leadership(3));
  CHECK(h.cluster.node(1).propose("during") == std::unexpected(Error::transferring));
  h.settle();
  CHECK(h.cluster.node(3).role() == Role::leader);
  CHECK(h.cluster.node(3).log().committed() >= 11);
}

TEST_CASE("raft: an unfinished transfer is abandoned after an election timeout") {
  Harness h(3);
  h.elect(1);
  h.isolate(3);
  REQUIRE(h.cluster.node(1).transfer_leadership(3));
  h.cut(1, 3);
  h.heal();
  h.cut(1, 3);
  h.tick(1, 10);  // the first check-quorum timeout: 2 answered, the transfer is abandoned
  CHECK(h.cluster.node(1).role() == Role::leader);
  CHECK(h.cluster.node(1).propose("again").has_value());
}

TEST_CASE("raft: a follower behind the compaction point gets a snapshot") {
  // Reference: section 7.
  Harness h(3);
  h.cluster.compact_every(10);
  h.elect(1);
  h.isolate(3);
  for (int i = 0; i < 40; ++i) h.propose(1, "s" + std::to_string(i));
  REQUIRE(h.cluster.node(1).log().first_index() > 2);
  h.heal();
  h.delivered.clear();
  h.tick(1, 1);
  CHECK(h.delivered[MessageType::snapshot] == 1);
  CHECK(h.cluster.node(3).log().committed() == 41);
  CHECK(h.cluster.state(3).hash == h.cluster.state(1).hash);
  h.propose(1, "after");
  CHECK(h.cluster.state(3).hash == h.cluster.state(1).hash);
}

TEST_CASE("raft: a restarted node recovers its log, term and vote from storage") {
  Harness h(3);
  h.elect(1);
  for (int i = 0; i < 5; ++i) h.propose(1, "r" + std::to_string(i));
  const auto before = h.cluster.node(2).hard_state();
  h.cluster.crash(2);
  h.cluster.start(2);
  CHECK(h.cluster.node(2).term() == before.term);
  CHECK(h.cluster.node(2).hard_state().vote == before.vote);
  // The commit index was written unsynced (Ready::must_sync), so the crash may have lost some.
  CHECK(h.cluster.node(2).log().committed() <= before.commit);
  CHECK(h.cluster.node(2).log().last_index() == 6);
  h.tick(1, 1);  // the leader raises the commit again; applied again from the start: same state
  CHECK(h.cluster.node(2).log().committed() == before.commit);
  CHECK(h.cluster.state(2).hash == h.cluster.state(1).hash);
}

TEST_CASE("raft: every replica dates an entry by the leader's clock when it committed") {
  Harness h(3);
  h.elect(1);
  // The followers' clocks disagree with the leader's: only the leader's counts.
  h.cluster.node(2).set_time(5);
  h.cluster.node(3).set_time(7);
  h.cluster.node(1).set_time(1'000);
  const auto a = h.propose(1, "a");
  h.cluster.node(1).set_time(2'000);
  const auto b = h.propose(1, "b");
  h.tick(1, 1);  // a heartbeat: followers learn the last commit
  for (NodeId id : h.cluster.ids()) {
    INFO("node " << id);
    CHECK(h.cluster.node(id).log().committed_at(a) == 1'000);
    CHECK(h.cluster.node(id).log().committed_at(b) == 2'000);
  }
  // A restart reads the dates back from storage, once they were synced (a commit index alone is
  // written unsynced; the next entry's sync makes it durable).
  h.cluster.node(1).set_time(3'000);
  h.propose(1, "c");
  h.cluster.crash(2);
  h.cluster.start(2);
  CHECK(h.cluster.node(2).log().committed_at(a) == 1'000);
  CHECK(h.cluster.node(2).log().committed_at(b) == 2'000);
}

TEST_CASE("raft: a Ready must be synced when it holds entries or a new term, not for a commit") {
  Harness h(3, [](Config& c) { c.pre_vote = false; });
  h.elect(1);
  Node& leader = h.cluster.node(1);
  REQUIRE(leader.propose("x"));
  Ready appended = leader.ready();
  CHECK(!appended.entries.empty());
  CHECK(appended.must_sync);
  leader.advance(appended);
  std::vector<Message> acks;
  for (const Message& m : appended.messages) {
    for (Message& ack : h.cluster.deliver(m)) acks.push_back(std::move(ack));
  }
  for (const Message& ack : acks) REQUIRE(leader.step(ack));
  REQUIRE(leader.has_ready());
  Ready committed = leader.ready();  // the commit moved: entries to apply, nothing new to keep
  CHECK(committed.entries.empty());
  CHECK(committed.committed.size() == 1);
  CHECK(committed.hard_state.has_value());
  CHECK(!committed.must_sync);
  leader.advance(committed);

  Node& other = h.cluster.node(3);
  other.campaign();  // a new term and a vote for itself: durable before its vote requests go
  REQUIRE(other.has_ready());
  Ready campaign = other.ready();
  CHECK(campaign.hard_state.has_value());
  CHECK(campaign.must_sync);
}

TEST_CASE("raft: peer input that breaks the protocol is refused and changes nothing") {
  Harness h(3);
  h.elect(1);
  Node& n = h.cluster.node(2);
  const auto before = n.status();
  auto message = [](MessageType type, NodeId from, NodeId to) {
    Message m;
    m.type = type;
    m.from = from;
    m.to = to;
    m.term = 5;
    m.index = 1;
    m.log_term = 1;
    return m;
  };
  CHECK(n.step(message(MessageType::append, 9, 2)) == std::unexpected(Error::unknown_node));
  CHECK(n.step(message(MessageType::append, 1, 3)) == std::unexpected(Error::unknown_node));
  Message gap = message(MessageType::append, 1, 2);
  gap.entries.push_back(Entry{5, 3, EntryType::normal, "x"});  // should be index 2
  CHECK(n.step(gap) == std::unexpected(Error::malformed));
  Message future = message(MessageType::append, 1, 2);
  future.entries.push_back(Entry{6, 2, EntryType::normal, "x"});  // term above the message's
  CHECK(n.step(future) == std::unexpected(Error::malformed));
  CHECK(n.step(message(MessageType::snapshot, 1, 2)) == std::unexpected(Error::malformed));
  CHECK(n.status().term == before.term);
  CHECK(n.status().last_index == before.last_index);
  CHECK_FALSE(n.has_ready());
}

TEST_CASE("raft: a leader refuses an answer about entries it never had") {
  // Found by raft_step_fuzz: trusted, it moved the follower's progress past the log's end, and
  // the next append reached for a snapshot that did not exist (an invariant abort).
  Harness h(3);
  h.elect(1);
  h.propose(1, "a");
  Node& leader = h.cluster.node(1);
  const std::uint64_t last = leader.log().last_index();
  Message bogus;
  bogus.type = MessageType::append_response;
  bogus.from = 2;
  bogus.to = 1;
  bogus.term = leader.term();
  bogus.index = last + 5;
  auto stepped = leader.step(bogus);
  REQUIRE_FALSE(stepped);
  CHECK(stepped.error() == Error::malformed);
  // The same for a rejection of an append past the log (its second long run found that one),
  // and a rejection's hint past the log is taken as the log's end.
  bogus.reject = true;
  CHECK_FALSE(leader.step(bogus));
  bogus.index = last;
  bogus.reject_hint = last + 9;
  bogus.log_term = 0;
  CHECK(leader.step(bogus));
  h.settle();
  h.propose(1, "b");  // replication goes on as before
  CHECK(leader.status().peers.at(1).match == leader.log().last_index());
  CHECK(h.cluster.node(2).log().committed() == leader.log().last_index());
}

TEST_CASE("raft: proposals are refused on followers and when too much is uncommitted") {
  Harness h(3, [](Config& c) { c.uncommitted_bytes_max = 100; });
  h.elect(1);
  CHECK(h.cluster.node(2).propose("x") == std::unexpected(Error::not_leader));
  h.isolate(1);
  REQUIRE(h.cluster.node(1).propose(std::string(80, 'a')));
  CHECK(h.cluster.node(1).propose(std::string(30, 'b')) == std::unexpected(Error::busy));
  h.heal();
  h.tick(1, 1);
  CHECK(h.cluster.node(1).propose(std::string(30, 'b')).has_value());
}

TEST_CASE("raft: status reports the leader's view of every follower") {
  Harness h(3);
  h.elect(1);
  h.propose(1, "x");
  const Status status = h.cluster.node(1).status();
  CHECK(status.role == Role::leader);
  REQUIRE(status.peers.size() == 3);
  for (const auto& peer : status.peers) CHECK(peer.match == 2);
}

}  // namespace
}  // namespace mkt::raft
