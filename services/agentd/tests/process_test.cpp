// agentd as real processes in a real market (started with marketctl, every connection through
// the proxy): a market maker and noise traders make a market, and an arbitrageur closes a gap
// between venues, faster over faster links.
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "harness.h"
#include "mkt/runtime/http_client.h"
#include "mkt/testing/eventually.h"

namespace {

using namespace std::chrono_literals;
using namespace mkt::marketctl::testing;
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
// removes the run folder.
void down(const std::string& run) {
  CHECK(marketctl({"down", "--run", run}).code == 0);
  CHECK(leftovers(run).empty());
  CHECK(stopped_cleanly(run));
  fs::remove_all(run);
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
  // Uninformed flow against two-sided quotes: on average the maker sells above where it buys.
  double bought = 0, paid = 0, sold = 0, received = 0;
  for (const auto& t : trades) {
    if (t.buyer == "maker")
      bought += static_cast<double>(t.lots), paid += t.price * static_cast<double>(t.lots);
    if (t.seller == "maker")
      sold += static_cast<double>(t.lots), received += t.price * static_cast<double>(t.lots);
  }
  REQUIRE(bought > 0);
  REQUIRE(sold > 0);
  const double spread = received / sold - paid / bought;
  INFO("maker: bought " << bought << " lots at " << paid / bought << ", sold " << sold << " at "
                        << received / sold);
  CHECK(spread > 0);
  // Noise traders trade with each other too: the market is more than the maker.
  CHECK(std::any_of(trades.begin(), trades.end(),
                    [](const Trade& t) { return t.buyer != "maker" && t.seller != "maker"; }));
  // A restarted maker trades again at once: its new orders' client ids are not its first run's
  // (the venue would refuse those as duplicates, one by one, until past the first run's ids).
  const auto restart = marketctl({"restart", "maker", "--run", run});
  INFO(restart.output);
  REQUIRE(restart.code == 0);
  const auto state = mkt::marketctl::read_state({run});
  REQUIRE(state.has_value());
  const int metrics_port = state->find("maker")->port("metrics");
  const auto counter = [&](const std::string& name) -> std::int64_t {
    const auto text = mkt::runtime::http_get("127.0.0.1", metrics_port, "/metrics", 1s);
    std::smatch value;
    const std::regex re(name + R"( (\d+))");
    return text && std::regex_search(*text, value, re) ? std::stoll(value[1]) : -1;
  };
  CHECK(eventually([&] { return counter("agent_fills_total") >= 10; }, 30s, 250ms));
  CHECK(counter("agent_rejects_total") < 10);
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
  const auto state = mkt::marketctl::read_state({run});
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
