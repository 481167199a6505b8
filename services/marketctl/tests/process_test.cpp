// marketctl as a user runs it: a whole market started with `up`, operated with the other
// commands, and stopped with `down` or Ctrl-C, with every process checked afterwards.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "mkt/runtime/run_folder.h"
#include "mkt/testing/child_process.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/marketctl.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using mkt::testing::eventually;
using Clock = std::chrono::steady_clock;
using namespace mkt::testing::marketctl;

const std::string scenario_file = std::string(MARKETCTL_TESTS) + "/market.yaml";

// The leader `marketctl status` names, and its term.
std::optional<std::pair<std::string, int>> leader(const std::string& run) {
  const auto status = marketctl({"status", "--run", run, "--interval", "50"});
  std::smatch match;
  static const std::regex re(R"(leader: (val-\d) \(term (\d+)\))");
  if (status.code != 0 || !std::regex_search(status.output, match, re)) return std::nullopt;
  return std::pair{match[1].str(), std::stoi(match[2].str())};
}

// Waits up to 20 s for a leader other than `previous`, in a newer term.
std::optional<std::pair<std::string, int>> next_leader(
    const std::string& run, const std::pair<std::string, int>& previous) {
  std::optional<std::pair<std::string, int>> next;
  const bool found = eventually(
      [&] {
        next = leader(run);
        return next && next->first != previous.first && next->second > previous.second;
      },
      20s, 100ms);
  return found ? next : std::nullopt;
}

void cross(const std::string& run, int lots) {
  const auto sell =
      marketctl({"order", "submit", "--run", run, "--account", "bob", "--symbol", "S", "--side",
                 "sell", "--quantity", std::to_string(lots), "--price", "100"});
  INFO(sell.output);
  REQUIRE(sell.code == 0);
  const auto buy =
      marketctl({"order", "submit", "--run", run, "--account", "alice", "--symbol", "S", "--side",
                 "buy", "--quantity", std::to_string(lots), "--price", "100"});
  INFO(buy.output);
  REQUIRE(buy.code == 0);
  CHECK(buy.output.find("fill: trade") != std::string::npos);
}

bool ledger_has_trades(const std::string& run, int trades) {
  const auto tail = marketctl({"ledger", "tail", "--run", run, "--from", "1"});
  return tail.code == 0 &&
         tail.output.find(std::to_string(trades) + " trades settled") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "marketctl process: a detached market survives its leader's death and a partition and comes "
    "down whole") {
  const auto run = run_dir("detach");
  // Without agents: the test trades by hand and checks exact books.
  auto up =
      marketctl({"up", scenario_file, "--run", run, "--detach", "--sync", "none", "--no-agents"});
  INFO(up.output);
  REQUIRE(up.code == 0);
  CHECK(up.output.find("raft: val-") != std::string::npos);
  CHECK(up.output.find("ex-1 (exchange) serving") != std::string::npos);
  CHECK(up.output.find("alice (agent) not started: up --no-agents") != std::string::npos);
  for (const auto* node : {"netproxy", "val-0", "val-1", "val-2", "ex-1"}) {
    CHECK(fs::file_size(fs::path(run) / "logs" / (std::string(node) + ".log")) > 0);
  }

  SECTION("and refuses a second market in the same folder") {
    const auto again = marketctl({"up", scenario_file, "--run", run, "--detach"});
    CHECK(again.code == 1);
    CHECK(again.output.find("is already running in " + run) != std::string::npos);
  }

  SECTION("through a kill of the leader, a partition and a heal") {
    // Trades are matched, reported and committed.
    cross(run, 10);
    REQUIRE(eventually([&] { return ledger_has_trades(run, 1); }, 20s, 100ms));
    // A resting order shows in the book, only its owner may cancel it, and the cancel empties
    // the book again.
    const auto rest = marketctl({"order", "submit", "--run", run, "--account", "alice", "--symbol",
                                 "S", "--side", "buy", "--quantity", "4", "--price", "99.5"});
    std::smatch id;
    REQUIRE(std::regex_search(rest.output, id, std::regex(R"(accepted: order (\d+))")));
    auto book = marketctl({"book", "S", "--run", run});
    CHECK(book.code == 0);
    CHECK(book.output.find("last trade 100") != std::string::npos);
    CHECK(std::regex_search(book.output, std::regex(R"(4 +1 +99\.50 \|)")));
    const auto stolen =
        marketctl({"order", "cancel", "--run", run, "--account", "bob", "--id", id[1].str()});
    CHECK(stolen.code == 1);
    CHECK(stolen.output.find("belongs to another account") != std::string::npos);
    // Statuses by name; a price in the user's own units, refused before it is sent.
    const auto huge =
        marketctl({"order", "submit", "--run", run, "--account", "alice", "--symbol", "S", "--side",
                   "buy", "--quantity", "1", "--price", "99999999999"});
    CHECK(huge.output.find("out of the book's range (INVALID_ARGUMENT)") != std::string::npos);
    const auto negative =
        marketctl({"order", "submit", "--run", run, "--account", "alice", "--symbol", "S", "--side",
                   "buy", "--quantity", "1", "--price", "-5"});
    CHECK(negative.code == 2);
    CHECK(negative.output == "marketctl order submit: --price -5 must be positive\n");
    const auto cancel =
        marketctl({"order", "cancel", "--run", run, "--account", "alice", "--id", id[1].str()});
    INFO(cancel.output);
    CHECK(cancel.code == 0);
    CHECK(cancel.output.find("cancelled: order " + id[1].str() + ", 4 lots") != std::string::npos);
    book = marketctl({"book", "S", "--run", run});
    CHECK(book.output.find("(empty)") != std::string::npos);

    // Kill the leader: the status names a new one, in a newer term.
    const auto first = leader(run);
    REQUIRE(first.has_value());
    const auto killed = marketctl({"kill", first->first, "--run", run});
    INFO(killed.output);
    REQUIRE(killed.code == 0);
    const auto second = next_leader(run, *first);
    REQUIRE(second.has_value());
    const auto status = marketctl({"status", "--run", run, "--interval", "50"});
    CHECK(std::regex_search(status.output, std::regex(first->first + " +validator +killed")));
    // Settlement goes on under the new leader.
    cross(run, 5);
    REQUIRE(eventually([&] { return ledger_has_trades(run, 2); }, 20s, 100ms));

    // The killed validator comes back on its ports; then the new leader is cut off and the other
    // two elect a third leader; the heal brings everyone back.
    const auto restarted = marketctl({"restart", first->first, "--run", run});
    INFO(restarted.output);
    REQUIRE(restarted.code == 0);
    const auto cut = marketctl({"partition", second->first, "--mode", "reset", "--run", run});
    INFO(cut.output);
    REQUIRE(cut.code == 0);
    CHECK(cut.output.find("directed links cut") != std::string::npos);
    const auto third = next_leader(run, *second);
    REQUIRE(third.has_value());
    const auto healed = marketctl({"heal", "--run", run});
    CHECK(healed.output.find("healed 1 partition") != std::string::npos);
    cross(run, 3);
    REQUIRE(eventually([&] { return ledger_has_trades(run, 3); }, 20s, 100ms));
    // Every validator, the cut-off one included, has applied all three trades.
    REQUIRE(eventually(
        [&] {
          const auto s = marketctl({"status", "--run", run, "--interval", "50"});
          std::size_t settled = 0;
          for (std::size_t at = 0;
               (at = s.output.find("3 trades settled", at)) != std::string::npos; ++at) {
            ++settled;
          }
          return settled == 3;
        },
        20s, 100ms));

    // A link changed by hand reads back as set.
    const auto link = marketctl(
        {"link", "set", "ex-1", third->first, "--latency", "30ms", "--loss", "0.5%", "--run", run});
    INFO(link.output);
    CHECK(link.code == 0);
    CHECK(link.output.find("latency 30ms") != std::string::npos);
    CHECK(link.output.find("loss 0.5%") != std::string::npos);
    const auto reset = marketctl({"link", "reset", "--run", run});
    CHECK(reset.code == 0);
    const auto shown = marketctl({"link", "show", "ex-1", third->first, "--run", run});
    CHECK(shown.code == 0);
    CHECK(shown.output.find("loss 0%") != std::string::npos);
    CHECK(shown.output.find("set by hand") == std::string::npos);
  }

  const auto down = marketctl({"down", "--run", run});
  INFO(down.output);
  CHECK(down.code == 0);
  CHECK(leftovers(run).empty());
  const auto after = marketctl({"status", "--run", run});
  CHECK(after.code == 1);
  CHECK(after.output.find("is not running") != std::string::npos);
  fs::remove_all(run);
}

TEST_CASE(
    "marketctl process: Ctrl-C stops every process and --resume continues from the journals") {
  const auto run = run_dir("fg");
  auto up = start({"up", scenario_file, "--run", run, "--sync", "none", "--no-agents"});
  REQUIRE(up.wait_for_line("Ctrl-C stops it", 60s));
  REQUIRE(leftovers(run).size() == 6);  // the supervisor and five processes
  cross(run, 2);
  REQUIRE(eventually([&] { return ledger_has_trades(run, 1); }, 20s, 100ms));
  const auto read = [&](const char* file) {
    std::ifstream in(fs::path(run) / file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto keys = read("accounts");
  up.signal(SIGINT);
  CHECK(up.wait() == 0);
  INFO(up.output());
  CHECK(up.output().find("stopping the market") != std::string::npos);
  CHECK(leftovers(run).empty());
  // Everything stopped on SIGTERM, in order, and cleanly.
  CHECK(stopped_cleanly(run));
  // A second up on the same folder wants to know what to do with the first run's data.
  const auto again = marketctl({"up", scenario_file, "--run", run});
  CHECK(again.code == 1);
  CHECK(again.output.find("add --resume") != std::string::npos);
  // --resume continues from the journals and write-ahead logs, with the same keys.
  const auto resumed =
      marketctl({"up", scenario_file, "--run", run, "--resume", "--detach", "--no-agents"});
  INFO(resumed.output);
  REQUIRE(resumed.code == 0);
  CHECK(read("accounts") == keys);
  CHECK(eventually([&] { return ledger_has_trades(run, 1); }, 20s, 100ms));
  const auto book = marketctl({"book", "S", "--run", run});
  CHECK(book.output.find("last trade 100") != std::string::npos);
  CHECK(marketctl({"down", "--run", run}).code == 0);
  CHECK(leftovers(run).empty());
  fs::remove_all(run);
}

TEST_CASE("marketctl process: a supervisor killed with SIGKILL takes its processes along") {
  const auto run = run_dir("orphans");
  const auto up = marketctl({"up", scenario_file, "--run", run, "--detach", "--sync", "none"});
  INFO(up.output);
  REQUIRE(up.code == 0);
  const auto state = mkt::runtime::read_state({run});
  REQUIRE(state.has_value());
  ::kill(state->supervisor, SIGKILL);
  CHECK(eventually([&] { return leftovers(run).empty(); }, 10s));
  // down is still safe to run, and says there was nothing to stop.
  const auto down = marketctl({"down", "--run", run});
  CHECK(down.code == 0);
  CHECK(down.output.find("no supervisor runs") != std::string::npos);
  fs::remove_all(run);
}

TEST_CASE("marketctl process: a port in use is named with its node before anything starts") {
  // Hold a port, and ask for the market's ports to start there. It is probed below the kernel's
  // ephemeral range (32768 and up here), so that the ports after it, which the market would use,
  // are not taken meanwhile by the port-0 binds of tests running beside this one.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int port = 0;
  for (int candidate = 20000 + ::getpid() % 10000; candidate < 32000 && port == 0;
       candidate += 50) {
    addr.sin_port = htons(static_cast<std::uint16_t>(candidate));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) port = candidate;
  }
  REQUIRE(port != 0);
  REQUIRE(::listen(fd, 1) == 0);
  const auto run = run_dir("port");
  const auto up =
      marketctl({"up", scenario_file, "--run", run, "--base-port", std::to_string(port)});
  ::close(fd);
  INFO(up.output);
  CHECK(up.code == 1);
  CHECK(up.output.find("port " + std::to_string(port) + " (netproxy's proxy port) is in use") !=
        std::string::npos);
  CHECK(leftovers(run).empty());
  fs::remove_all(run);
}

TEST_CASE(
    "marketctl process: every shipped scenario starts, settles a trade and comes down whole") {
  // Its agents run too.
  for (const auto& entry : fs::directory_iterator(NETMARKET_SCENARIOS)) {
    if (entry.path().extension() != ".yaml") continue;
    const auto name = entry.path().stem().string();
    INFO(name);
    const auto run = run_dir(name);
    const auto up =
        marketctl({"up", entry.path().string(), "--run", run, "--detach", "--sync", "none"});
    INFO(up.output);
    REQUIRE(up.code == 0);
    // agentd runs every strategy: no agent is left out (the reference file's momentum traders,
    // arbitrage seekers, information brokers and coordinated traders among them).
    CHECK(up.output.find("does not run") == std::string::npos);
    // Two agents of the scenario cross on its first exchange, and the trade is committed.
    std::vector<std::string> accounts;
    std::ifstream in(fs::path(run) / "accounts");
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] != '#') accounts.push_back(line.substr(0, line.find(' ')));
    }
    REQUIRE(accounts.size() >= 3);  // two agents at least, and the operator
    const auto state = mkt::runtime::read_state({run});
    REQUIRE(state.has_value());
    CHECK(std::any_of(state->nodes.begin(), state->nodes.end(), [](const auto& node) {
      return node.role == "agent" && node.state == mkt::runtime::NodeState::running;
    }));
    std::string venue;
    for (const auto& node : state->nodes) {
      if (node.role == "exchange" && venue.empty()) venue = node.id;
    }
    const auto symbol = [&] {
      const auto book = marketctl({"order", "submit", "--run", run, "--venue", venue, "--symbol",
                                   "?", "--side", "buy", "--quantity", "1", "--price", "1"});
      // The refusal lists the venue's symbols: take the first.
      const auto at = book.output.find("it lists: ");
      REQUIRE(at != std::string::npos);
      const auto rest = book.output.substr(at + 10);
      return rest.substr(0, rest.find_first_of(" \n"));
    }();
    for (const auto& [account, side] : {std::pair{accounts[0], "sell"}, {accounts[1], "buy"}}) {
      const auto order =
          marketctl({"order", "submit", "--run", run, "--venue", venue, "--account", account,
                     "--symbol", symbol, "--side", side, "--quantity", "1", "--price", "10"});
      INFO(order.output);
      REQUIRE(order.code == 0);
    }
    CHECK(eventually([&] { return ledger_has_trades(run, 1); }, 30s, 100ms));
    const auto down = marketctl({"down", "--run", run});
    CHECK(down.code == 0);
    CHECK(leftovers(run).empty());
    fs::remove_all(run);
  }
}
