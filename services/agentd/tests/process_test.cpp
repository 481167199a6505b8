// agentd as real processes in a real market (started with marketctl, every connection through
// the proxy): a market maker and noise traders make a market, an arbitrageur closes a gap
// between venues (faster over faster links), a custom Python agent trades, a broker learns whom
// to trust, and a coalition trades together (and not when one member is cut off).
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "market/peer/v1/peer.grpc.pb.h"
#include "mkt/agents/fundamental.h"
#include "mkt/agents/setup.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/files.h"
#include "mkt/runtime/http_client.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/marketctl.h"

namespace {

using namespace std::chrono_literals;
using namespace mkt::testing::marketctl;
using mkt::testing::eventually;
using Clock = std::chrono::steady_clock;

const std::string tests = AGENTD_TESTS;

struct Trade {
  std::int64_t lots = 0;
  double price = 0;
  std::string buyer, seller;
};

// Every trade the ledger holds.
std::vector<Trade> ledger_trades(const std::string& run) {
  const auto tail = marketctl({"ledger", "tail", "--run", run, "--from", "1"});
  std::vector<Trade> trades;
  static const std::regex re(R"(trade \d+ \S+ (\d+) @ ([0-9.]+): (\S+) bought from (\S+))");
  for (std::sregex_iterator it(tail.output.begin(), tail.output.end(), re), end; it != end; ++it) {
    trades.push_back({std::stoll((*it)[1]), std::stod((*it)[2]), (*it)[3], (*it)[4]});
  }
  return trades;
}

// Starts one of this folder's scenarios in the background, fast (no fsync); its output.
Result start_market(const std::string& scenario, const std::string& run) {
  auto up = marketctl({"up", tests + "/" + scenario, "--run", run, "--detach", "--sync", "none"});
  INFO(up.output);
  REQUIRE(up.code == 0);
  return up;
}

// Stops the market, checks that every process is gone and every agent stopped cleanly, and
// removes the run folder (kept, for its logs, when a process did not stop cleanly).
void down(const std::string& run) {
  CHECK(marketctl({"down", "--run", run}).code == 0);
  CHECK(leftovers(run).empty());
  const bool clean = stopped_cleanly(run);
  INFO("the run folder is kept for its logs: " << run);
  CHECK(clean);
  if (clean) fs::remove_all(run);
}

// A series of a node's metrics (as `agent_fills_total` or `agent_coordination_events{event="x"}`);
// -1 when the node or the series is not there.
double metric(const std::string& run, const std::string& node, const std::string& series) {
  const auto state = mkt::runtime::read_state({run});
  const auto* record = state ? state->find(node) : nullptr;
  if (record == nullptr) return -1;
  const auto text = mkt::runtime::http_get("127.0.0.1", record->port("metrics"), "/metrics", 2s);
  if (!text) return -1;
  const std::string line = "\n" + series + " ";
  const auto at = text->find(line);
  if (at == std::string::npos) return -1;
  return std::stod(text->substr(at + line.size()));
}

bool book_empty(const std::string& run, const std::string& venue) {
  const auto book = marketctl({"book", "S", "--run", run, "--venue", venue});
  return book.code == 0 && book.output.find("(empty)") != std::string::npos;
}

}  // namespace

TEST_CASE("agentd process: a market maker and noise traders trade, the maker earning its spread") {
  const auto run = run_dir("agents-mm");
  const auto up = start_market("maker.yaml", run);
  for (const auto* agent : {"maker", "noise-0", "noise-1", "noise-2"}) {
    CHECK(up.output.find(std::string(agent) + " (agent) serving") != std::string::npos);
  }
  // Wait for the maker to have traded on both sides, at least 20 times each.
  std::vector<Trade> trades;
  const auto maker_trades = [&](bool buys) {
    return std::count_if(trades.begin(), trades.end(),
                         [&](const Trade& t) { return (buys ? t.buyer : t.seller) == "maker"; });
  };
  CHECK(eventually(
      [&] {
        trades = ledger_trades(run);
        return maker_trades(true) >= 20 && maker_trades(false) >= 20;
      },
      60s, 250ms));
  // Uninformed flow against two-sided quotes: the maker sells above where it buys. Measured on
  // each pair of consecutive maker trades on opposite sides (a round trip), so that the drift of
  // the price over the whole window, which its inventory rides, does not swamp the spread.
  double round_trips = 0, spread_sum = 0;
  const Trade* last = nullptr;
  for (const auto& t : trades) {
    if (t.buyer != "maker" && t.seller != "maker") continue;
    if (last != nullptr && (last->buyer == "maker") != (t.buyer == "maker")) {
      spread_sum += t.buyer == "maker" ? last->price - t.price : t.price - last->price;
      ++round_trips;
    }
    last = &t;
  }
  REQUIRE(round_trips >= 8);
  const double spread = spread_sum / round_trips;
  INFO("maker: " << round_trips << " round trips, " << spread << " earned on each on average");
  CHECK(spread > 0);
  CHECK(metric(run, "maker", R"(agent_market_data_connected{venue="ex-1"})") == 1);
  // Noise traders trade with each other too: the market is more than the maker.
  CHECK(std::any_of(trades.begin(), trades.end(),
                    [](const Trade& t) { return t.buyer != "maker" && t.seller != "maker"; }));
  // A restarted maker trades again at once: its new orders' client ids are not its first run's
  // (the venue would refuse those as duplicates, one by one, until past the first run's ids).
  const auto restart = marketctl({"restart", "maker", "--run", run});
  INFO(restart.output);
  REQUIRE(restart.code == 0);
  CHECK(eventually([&] { return metric(run, "maker", "agent_fills_total") >= 10; }, 30s, 250ms));
  // The quotes its first run left resting were cancelled when it came back (their fills would
  // have moved a position the new run does not know of).
  const auto log = mkt::runtime::read_file(run + "/logs/maker.log", 64 << 20);
  REQUIRE(log.has_value());
  CHECK(log->find("left by an earlier run") != std::string::npos);
  CHECK(metric(run, "maker", "agent_rejects_total") < 10);
  down(run);
}

TEST_CASE("agentd process: an arbitrageur closes a gap between venues, faster over faster links") {
  const auto run = run_dir("agents-arb");
  start_market("arbitrage.yaml", run);
  // Opens a gap (an ask of 100.00 on ex-a, a bid of 101.00 on ex-b, as the operator) and returns
  // how long the arbitrageur took to take both.
  const auto close_gap = [&] {
    REQUIRE(marketctl({"order", "submit", "--run", run, "--venue", "ex-a", "--symbol", "S",
                       "--side", "sell", "--quantity", "10", "--price", "100"})
                .code == 0);
    const auto opened = Clock::now();
    REQUIRE(marketctl({"order", "submit", "--run", run, "--venue", "ex-b", "--symbol", "S",
                       "--side", "buy", "--quantity", "10", "--price", "101"})
                .code == 0);
    REQUIRE(
        eventually([&] { return book_empty(run, "ex-a") && book_empty(run, "ex-b"); }, 30s, 5ms));
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened);
  };
  const auto fast = close_gap();
  // 300 ms each way between the arbitrageur and both venues: its market data and its orders
  // each cross one such link, so the gap stays open at least 600 ms.
  for (const auto* venue : {"ex-a", "ex-b"}) {
    const auto set =
        marketctl({"link", "set", "arb", venue, "--latency", "300ms", "--both", "--run", run});
    INFO(set.output);
    REQUIRE(set.code == 0);
  }
  const auto slow = close_gap();
  INFO("gap closed in " << fast.count() << " ms over 1 ms links, " << slow.count()
                        << " ms over 300 ms links");
  CHECK(slow >= 600ms);
  CHECK(fast < slow);
  // Both gaps were closed by the arbitrageur: the ledger's four trades are all its.
  CHECK(eventually([&] { return ledger_trades(run).size() == 4; }, 20s, 100ms));
  for (const auto& t : ledger_trades(run)) CHECK((t.buyer == "arb" || t.seller == "arb"));
  down(run);
}

TEST_CASE("agentd process: the Python custom agent attaches through the proxy and trades") {
  const auto run = run_dir("agents-py");
  const auto up = start_market("python.yaml", run);
  CHECK(up.output.find("custom (agent) not started: an external agent") != std::string::npos);
  const auto stubs = run + "/stubs";
  const std::string examples = EXAMPLES_PYTHON;
  auto make = mkt::testing::ChildProcess({examples + "/make-stubs.sh", stubs},
                                         mkt::testing::ChildProcess::Capture::stdout_and_stderr);
  INFO(make.output());
  REQUIRE(make.wait() == 0);
  const auto state = mkt::runtime::read_state({run});
  REQUIRE(state.has_value());
  const auto port_of = [&](const std::string& node, const std::string& name) {
    const auto* record = state->find(node);
    REQUIRE(record != nullptr);
    return std::to_string(record->port(name));
  };
  auto agent = mkt::testing::ChildProcess(
      {"/usr/bin/env", "PYTHONPATH=" + stubs, "/usr/bin/python3", examples + "/custom_agent.py",
       "--exchange", "127.0.0.1:" + port_of("ex-1", "grpc"), "--proxy",
       "127.0.0.1:" + port_of("netproxy", "proxy"), "--node", "custom", "--accounts",
       run + "/accounts", "--symbol", "S", "--orders", "3"},
      mkt::testing::ChildProcess::Capture::stdout_and_stderr);
  const int code = agent.wait();
  INFO(agent.output());
  CHECK(code == 0);
  CHECK(agent.output().find("3 orders answered") != std::string::npos);
  // It bought from the maker, and the ledger says so.
  CHECK(eventually(
      [&] {
        const auto trades = ledger_trades(run);
        return std::any_of(trades.begin(), trades.end(), [](const Trade& t) {
          return t.buyer == "custom" && t.seller == "maker";
        });
      },
      20s, 100ms));
  // Its connection went through the proxy, on the custom agent's own link.
  const auto stats =
      mkt::runtime::http_get("127.0.0.1", std::stoi(port_of("netproxy", "http")), "/v1/stats", 5s);
  REQUIRE(stats.has_value());
  std::smatch bytes;
  static const std::regex link(
      R"re("source":\s*"custom",\s*"destination":\s*"ex-1",\s*"bytes_forward":\s*"(\d+)")re");
  REQUIRE(std::regex_search(*stats, bytes, link));
  CHECK(std::stoll(bytes[1]) > 0);
  down(run);
}

namespace {

namespace peer = market::peer::v1;

// The test's own agents (the scenario's external ones) reach the market's through the proxy.
class Outsider {
 public:
  Outsider(const std::string& run, const std::string& node) : node_(node) {
    const auto state = mkt::runtime::read_state({run});
    REQUIRE(state.has_value());
    proxy_ = "127.0.0.1:" + std::to_string(state->find("netproxy")->port("proxy"));
    for (const auto& record : state->nodes) {
      if (record.port("grpc") > 0) {
        grpc_[record.id] = "127.0.0.1:" + std::to_string(record.port("grpc"));
      }
    }
  }
  std::unique_ptr<peer::Peer::Stub> peer_of(const std::string& node) const {
    return peer::Peer::NewStub(
        mkt::runtime::make_channel(grpc_.at(node), {.node_id = node_,
                                                    .proxy_address = proxy_,
                                                    .max_receive_message_bytes = 4 << 20,
                                                    .reconnect_backoff_max_ms = 0}));
  }
  // Sends one signal of its own to a node; the call's status.
  grpc::Status send(const std::string& to, peer::Signal signal) const {
    peer::SignalBatch batch;
    mkt::runtime::stamp(*batch.mutable_header(), node_);
    *batch.add_signals() = std::move(signal);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    market::common::v1::Ack ack;
    return peer_of(to)->SendSignals(&context, batch, &ack);
  }
  peer::Signal signal(int sequence, peer::SignalKind kind, std::int64_t value) const {
    peer::Signal s;
    s.set_signal_id(node_ + "/" + std::to_string(sequence));
    s.set_origin(node_);
    s.set_symbol("S");
    s.set_kind(kind);
    s.set_confidence_ppm(900'000);
    s.set_value_ticks(value);
    s.set_origin_ts_ns(mkt::runtime::wall_clock_ns());
    s.set_ttl_hops(3);
    s.set_expires_at_ns(s.origin_ts_ns() + 10'000'000'000);
    return s;
  }

 private:
  std::string node_;
  std::string proxy_;
  std::map<std::string, std::string> grpc_;
};

// The fundamental value of the run's symbol S now, as every agent of the run computes it.
struct Truth {
  explicit Truth(const std::string& run) {
    const auto text = mkt::runtime::read_file(run + "/scenario.yaml", 1 << 20);
    REQUIRE(text.has_value());
    auto scenario = mkt::scenario::parse(*text, "scenario.yaml");
    REQUIRE(scenario.has_value());
    const auto epoch_text = mkt::runtime::read_file(run + "/epoch", 64);
    REQUIRE(epoch_text.has_value());
    epoch_ns = std::stoll(*epoch_text);
    auto setup = mkt::agents::agent_setup(*scenario, "broker", epoch_ns);
    REQUIRE(setup.has_value());
    auto params = setup->config.fundamentals.at(0);
    params.reference_ticks = setup->config.symbols.at(0).reference_ticks;
    value.emplace(setup->config.seed, "S", params);
  }
  std::int64_t now() { return value->at((mkt::runtime::wall_clock_ns() - epoch_ns) / 1'000'000); }
  std::int64_t epoch_ns = 0;
  std::optional<mkt::agents::FundamentalValue> value;
};

}  // namespace

TEST_CASE("agentd process: a lying peer loses its reputation and the broker sells only the truth") {
  const auto run = run_dir("agents-signals");
  start_market("signals.yaml", run);
  Truth truth(run);
  const Outsider oracle(run, "oracle"), liar(run, "liar"), buyer(run, "buyer");

  // The buyer subscribes to the broker (through the proxy, as node "buyer").
  grpc::ClientContext subscription;
  subscription.set_deadline(std::chrono::system_clock::now() + 60s);
  peer::SubscribeRequest request;
  mkt::runtime::stamp(*request.mutable_header(), "buyer");
  const auto broker = buyer.peer_of("broker");
  auto reader = broker->Subscribe(&subscription, request);
  // The two sharing peers subscribe as well.
  REQUIRE(eventually([&] { return metric(run, "broker", "agent_broker_subscribers") == 3; }, 20s,
                     100ms));

  // Four fair values from each: the oracle's true, the liar's 3% high.
  const auto round = [&](int i) {
    const std::int64_t value = truth.now();
    REQUIRE(oracle.send("broker", oracle.signal(i, peer::SIGNAL_KIND_FAIR_VALUE, value)).ok());
    REQUIRE(
        liar.send("broker", liar.signal(i, peer::SIGNAL_KIND_FAIR_VALUE, value + value * 3 / 100))
            .ok());
  };
  for (int i = 1; i <= 4; ++i) round(i);
  const std::string of_liar = R"({origin="liar"})";
  const std::string of_oracle = R"({origin="oracle"})";
  REQUIRE(
      eventually([&] { return metric(run, "broker", "agent_peer_signals_judged" + of_liar) == 4; },
                 10s, 100ms));
  // Four wrong signals are enough to fall below the distrust threshold (0.2).
  CHECK(metric(run, "broker", "agent_peer_signals_wrong" + of_liar) == 4);
  CHECK(metric(run, "broker", "agent_peer_reputation_ppm" + of_liar) < 200'000);
  CHECK(metric(run, "broker", "agent_peer_reputation_ppm" + of_oracle) >= 800'000);
  CHECK(metric(run, "broker", "agent_peer_signals_wrong" + of_oracle) == 0);

  // From now on the oracle's signals are sold (reputation at least 0.8) and the liar's are not.
  for (int i = 5; i <= 8; ++i) round(i);
  int sold = 0;
  peer::Signal s;
  while (sold < 5 && reader->Read(&s)) {
    CHECK(s.origin() == "oracle");
    CHECK(s.hop_count() == 1u);
    ++sold;
  }
  CHECK(sold == 5);  // oracle/4 (the one that lifted it to 0.84) to oracle/8
  subscription.TryCancel();
  reader->Finish();

  // Gossip: a buy signal to peer-0 only spreads to peer-1 and the broker, and peer-1 passes it on
  // to the broker too, which counts it once. (Its origin is the buyer, whom the broker does not
  // know well enough to sell: the signal travels by gossip alone.)
  const double duplicates_before =
      metric(run, "broker", R"(agent_signals_received_total{admission="duplicate"})");
  REQUIRE(buyer.send("peer-0", buyer.signal(1, peer::SIGNAL_KIND_BUY, 0)).ok());
  CHECK(eventually(
      [&] {
        return metric(run, "broker", R"(agent_signals_received_total{admission="duplicate"})") >
               duplicates_before;
      },
      10s, 100ms));
  CHECK(metric(run, "peer-0", "agent_signals_forwarded_total") >= 2);
  CHECK(metric(run, "peer-1", "agent_signals_forwarded_total") >= 1);
  // Nothing reaches peer-1 directly from an origin: every signal it has took a hop or more, and
  // its age on arrival is measured.
  CHECK(metric(run, "peer-1", R"(agent_signal_hops_bucket{le="0"})") == 0);
  CHECK(metric(run, "peer-1", "agent_signal_hops_count") >= 1);
  CHECK(metric(run, "peer-1", "agent_signal_age_seconds_sum") > 0);

  // A peer that is down when a signal is gossiped to it gets it once it is back, while the signal
  // lives: the failed send is tried again.
  REQUIRE(marketctl({"kill", "peer-1", "--run", run}).code == 0);
  REQUIRE(buyer.send("peer-0", buyer.signal(2, peer::SIGNAL_KIND_BUY, 0)).ok());
  REQUIRE(eventually([&] { return metric(run, "peer-0", "agent_signal_sends_failed_total") >= 1; },
                     5s, 100ms));
  REQUIRE(marketctl({"restart", "peer-1", "--run", run}).code == 0);
  CHECK(eventually([&] { return metric(run, "peer-1", "agent_signal_hops_count") >= 1; }, 10s,
                   100ms));
  CHECK(metric(run, "peer-0", "agent_signals_dropped_total") == 0);
  down(run);
}

TEST_CASE("agentd process: a coalition of three trades together and aborts when one is cut off") {
  const auto run = run_dir("agents-coalition");
  start_market("coalition.yaml", run);
  const auto sell = [&](const std::string& price, int lots) {
    const auto order =
        marketctl({"order", "submit", "--run", run, "--account", "seller", "--symbol", "S",
                   "--side", "sell", "--price", price, "--quantity", std::to_string(lots)});
    INFO(order.output);
    REQUIRE(order.code == 0);
  };
  const auto bought_at = [&](const std::string& member, double price) {
    const auto trades = ledger_trades(run);
    return std::count_if(trades.begin(), trades.end(), [&](const Trade& t) {
      return t.buyer == member && t.seller == "seller" && std::abs(t.price - price) < 1e-9;
    });
  };
  const auto events = [&](const std::string& event) {
    double sum = 0;
    for (const auto* member : {"coord-0", "coord-1", "coord-2"}) {
      sum += std::max(
          0.0, metric(run, member, R"(agent_coordination_events{event=")" + event + R"("})"));
    }
    return sum;
  };
  // An offer 2% below the value: the coalition buys it together, a lot each per trade.
  sell("98.00", 12);
  CHECK(eventually(
      [&] {
        return bought_at("coord-0", 98) >= 1 && bought_at("coord-1", 98) >= 1 &&
               bought_at("coord-2", 98) >= 1;
      },
      30s, 200ms));
  // (The gauges are refreshed every 250 ms: the ledger may be quicker.)
  CHECK(eventually([&] { return events("committed") >= 1 && events("joined_committed") >= 2; }, 5s,
                   100ms));

  // coord-2 is cut off. A new offer, lower still: proposals time out, and nobody buys it.
  const auto cut = marketctl({"partition", "coord-2", "--run", run});
  INFO(cut.output);
  REQUIRE(cut.code == 0);
  // (A silent partner is an abort at the deadline, or one when the call to it runs out: the same
  // moment, counted as timed_out or aborted by which comes first.)
  const double aborted = events("aborted");
  sell("97.50", 12);
  CHECK(eventually([&] { return events("aborted") >= aborted + 3; }, 30s, 200ms));
  CHECK(bought_at("coord-0", 97.5) == 0);
  CHECK(bought_at("coord-1", 97.5) == 0);
  CHECK(metric(run, "coord-0", "agent_live_orders") == 0);
  CHECK(metric(run, "coord-1", "agent_live_orders") == 0);

  // Healed, the three trade together again.
  REQUIRE(marketctl({"heal", "--run", run}).code == 0);
  CHECK(eventually(
      [&] {
        return bought_at("coord-0", 97.5) >= 1 && bought_at("coord-1", 97.5) >= 1 &&
               bought_at("coord-2", 97.5) >= 1;
      },
      60s, 200ms));
  down(run);
}
