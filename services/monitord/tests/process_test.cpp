// monitord as a real process in a real market started with marketctl: it finds every node, sees
// prices move, raises a partition alert when the proxy cuts an exchange off and resolves it at
// the heal, shows a killed agent as down, and answers bad requests with a clear status while it
// goes on serving. With three validators and the proxy paused (a cut the proxy cannot report), it
// raises the partition from what the validators say of their calls, and resolves it.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <catch2/catch_test_macros.hpp>
#include <chrono>
#include <set>
#include <string>

#include "mkt/runtime/files.h"
#include "mkt/runtime/http_client.h"
#include "mkt/testing/eventually.h"
#include "mkt/testing/marketctl.h"

namespace {

using namespace std::chrono_literals;
using namespace mkt::testing::marketctl;
using mkt::testing::eventually;
namespace json = boost::json;

const std::string tests = MONITORD_TESTS;
const std::string drills = DRILLS_DIR;

int monitor_port(const std::string& run) {
  const auto state = mkt::runtime::read_state({run});
  REQUIRE(state.has_value());
  const auto* monitor = state->find("monitor");
  REQUIRE(monitor != nullptr);
  return monitor->port("metrics");
}

// GET of the monitor's API as JSON; null when it did not answer 200 with JSON.
json::value get(int port, const std::string& target) {
  const auto body = mkt::runtime::http_get("127.0.0.1", port, target, 2s);
  if (!body) return nullptr;
  boost::system::error_code ec;
  auto value = json::parse(*body, ec);
  return ec ? json::value(nullptr) : value;
}

// The status line's code of a raw request (for requests http_get cannot make).
int raw_status(int port, const std::string& request) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  boost::system::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(request), ec);
  std::string answer(64, '\0');
  const std::size_t n = socket.read_some(boost::asio::buffer(answer), ec);
  answer.resize(n);
  if (!answer.starts_with("HTTP/1.1 ")) return 0;
  return std::stoi(answer.substr(9, 3));
}

bool has_alert(const json::value& alerts, const std::string& rule, const std::string& subject) {
  if (!alerts.is_array()) return false;
  for (const auto& a : alerts.as_array()) {
    if (a.at("rule").as_string() == rule && a.at("subject").as_string() == subject) return true;
  }
  return false;
}

// A market of `scenario` started detached in a run folder named after `name`, brought down however
// the test ends (a failed REQUIRE included).
struct Market {
  Market(const std::string& scenario, const std::string& name) : run(run_dir(name)) {
    up = marketctl({"up", scenario, "--run", run, "--detach", "--sync", "none"});
    INFO(up.output);
    REQUIRE(up.code == 0);
    port = monitor_port(run);
  }
  ~Market() { marketctl({"down", "--run", run}); }

  std::string run;
  Result up;
  int port = 0;  // the monitor's
};

}  // namespace

TEST_CASE("monitord process: every node, moving prices, a partition alert raised and resolved") {
  const Market market(tests + "/market.yaml", "monitord");
  const std::string& run = market.run;
  const auto& up = market.up;
  const int port = market.port;
  CHECK(up.output.find("dashboard: http://127.0.0.1:" + std::to_string(port) + "/ ") !=
        std::string::npos);

  // Every node of the scenario but the monitor itself, all up.
  json::value state;
  REQUIRE(eventually(
      [&] {
        state = get(port, "/api/state");
        if (!state.is_object()) return false;
        for (const auto& n : state.at("nodes").as_array()) {
          if (!n.at("up").as_bool()) return false;
        }
        return true;
      },
      20s, 100ms));
  std::set<std::string> nodes;
  for (const auto& n : state.at("nodes").as_array())
    nodes.insert(std::string(n.at("id").as_string()));
  CHECK(nodes == std::set<std::string>{"ex-1", "val-0", "maker", "noise-0", "noise-1", "adaptive",
                                       "netproxy"});
  CHECK(state.at("validators").as_array().at(0).at("leads").as_bool());
  CHECK(state.at("agents").as_array().size() == 4);

  // Quotes, and a price history whose points advance.
  REQUIRE(eventually(
      [&] {
        const auto q = get(port, "/api/state").at("quotes").as_array().at(0);
        return q.at("bid_ticks").to_number<double>() > 0 &&
               q.at("ask_ticks").to_number<double>() > 0;
      },
      20s, 100ms));
  const auto last_point = [&] {
    const auto h = get(port, "/api/history?series=price/ex-1/S/bid");
    return h.is_object()
               ? h.at("points").as_array().back().as_array().at(0).to_number<std::int64_t>()
               : 0;
  };
  const auto first = last_point();
  CHECK(eventually([&] { return last_point() > first; }, 5s, 100ms));
  const auto csv = mkt::runtime::http_get("127.0.0.1", port,
                                          "/api/history?series=price/ex-1/S/bid&format=csv", 2s);
  REQUIRE(csv.has_value());
  CHECK(csv->starts_with("t_ns,value\n"));

  // The page, and its live feed: a hello with the state and the histories, then a round.
  const auto index = mkt::runtime::http_get("127.0.0.1", port, "/", 2s);
  REQUIRE(index.has_value());
  CHECK(index->find("<title>netmarket monitor</title>") != std::string::npos);
  CHECK(mkt::runtime::http_get("127.0.0.1", port, "/app.js", 2s).has_value());
  {
    namespace websocket = boost::beast::websocket;
    boost::asio::io_context io;
    websocket::stream<boost::asio::ip::tcp::socket> ws(io);
    ws.next_layer().connect(
        {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    ws.handshake("127.0.0.1", "/api/live");
    const auto next = [&] {
      boost::beast::flat_buffer buffer;
      ws.read(buffer);
      return json::parse(boost::beast::buffers_to_string(buffer.data()));
    };
    const auto hello = next();
    CHECK(hello.at("type").as_string() == "hello");
    CHECK(hello.at("state").at("nodes").as_array().size() == nodes.size());
    CHECK(hello.at("history").at("price/ex-1/S/bid").as_array().size() >= 1);
    const auto round = next();
    CHECK(round.at("type").as_string() == "round");
    CHECK(round.at("points").as_object().contains("price/ex-1/S/bid"));
    ws.close(websocket::close_code::normal);
  }

  // The links carry traffic, with a measured delay.
  CHECK(eventually(
      [&] {
        const auto now = get(port, "/api/state");
        for (const auto& l : now.at("links").as_array()) {
          if (l.at("to").as_string() == "ex-1" && l.at("carried_traffic").as_bool()) return true;
        }
        return false;
      },
      10s, 100ms));

  // Every process's metric names follow Prometheus's conventions (base units, _total counters).
  if (::access("/usr/bin/promtool", X_OK) == 0) {
    const auto state_now = mkt::runtime::read_state({run});
    REQUIRE(state_now.has_value());
    for (const auto& record : state_now->nodes) {
      const int metrics_port = record.metrics_port();
      const auto text = mkt::runtime::http_get("127.0.0.1", metrics_port, "/metrics", 2s);
      REQUIRE(text.has_value());
      const std::string file = run + "/" + record.id + ".prom";
      mkt::runtime::write_file_atomically(file, *text).value();
      auto lint = ChildProcess({"/bin/sh", "-c", "/usr/bin/promtool check metrics < " + file},
                               ChildProcess::Capture::stdout_and_stderr);
      const int code = lint.wait();
      INFO(record.id << ": " << lint.output());
      CHECK(code == 0);
    }
  } else {
    INFO("promtool is missing (deploy/install-deps.sh installs it)");
    const char* ci = std::getenv("CI");
    CHECK(std::string(ci != nullptr ? ci : "") != "true");
  }

  // Cut the exchange off: the partition alert for its links, then resolved at the heal.
  const auto cut = marketctl({"partition", "ex-1", "--run", run});
  INFO(cut.output);
  REQUIRE(cut.code == 0);
  REQUIRE(eventually(
      [&] { return has_alert(get(port, "/api/alerts").at("active"), "partition", "maker>ex-1"); },
      10s, 100ms));
  const auto active = get(port, "/api/alerts").at("active").as_array();
  for (const auto& a : active) {
    if (a.at("rule").as_string() == "partition") {
      CHECK(a.at("severity").as_string() == "critical");
      CHECK(a.at("evidence").as_string() == "black-holed by the proxy");
    }
  }
  // The telemetry streams: the exchange's trades, and the proxy's link changes of the cut.
  const auto has_event = [&](const std::string& kind, const std::string& node) {
    const auto events = get(port, "/api/events");
    if (!events.is_object()) return false;
    for (const auto& e : events.at("events").as_array()) {
      if (e.at("kind").as_string() == kind && e.at("node").as_string() == node) return true;
    }
    return false;
  };
  CHECK(eventually([&] { return has_event("trade", "ex-1"); }, 10s, 100ms));
  CHECK(eventually([&] { return has_event("link_change", "netproxy"); }, 10s, 100ms));
  CHECK(eventually([&] { return has_event("strategy_switch", "adaptive"); }, 10s, 100ms));
  REQUIRE(marketctl({"heal", "--run", run}).code == 0);
  CHECK(eventually(
      [&] {
        const auto alerts = get(port, "/api/alerts");
        return !has_alert(alerts.at("active"), "partition", "maker>ex-1") &&
               has_alert(alerts.at("resolved"), "partition", "maker>ex-1");
      },
      10s, 100ms));

  // A restarted exchange's stream is opened again: its trades keep coming.
  const auto newest_trade = [&] {
    std::uint64_t seq = 0;
    const auto events = get(port, "/api/events");
    if (!events.is_object()) return seq;
    for (const auto& e : events.at("events").as_array()) {
      if (e.at("kind").as_string() == "trade") seq = e.at("seq").to_number<std::uint64_t>();
    }
    return seq;
  };
  REQUIRE(marketctl({"restart", "ex-1", "--run", run}).code == 0);
  const auto before_restart = newest_trade();
  CHECK(eventually([&] { return newest_trade() > before_restart; }, 15s, 200ms));

  // A killed agent is shown down, with why, and alerted on.
  REQUIRE(marketctl({"kill", "noise-1", "--run", run}).code == 0);
  CHECK(eventually(
      [&] { return has_alert(get(port, "/api/alerts").at("active"), "node_down", "noise-1"); }, 10s,
      100ms));
  const auto after_kill = get(port, "/api/state");
  for (const auto& n : after_kill.at("nodes").as_array()) {
    if (n.at("id").as_string() == "noise-1") {
      CHECK_FALSE(n.at("up").as_bool());
      CHECK_FALSE(n.at("error").as_string().empty());
    }
  }

  // Bad requests get a clear status, and the monitor goes on serving.
  CHECK(mkt::runtime::http_get("127.0.0.1", port, "/api/history?series=nope", 2s)
            .error()
            .ends_with("HTTP 404"));
  CHECK(mkt::runtime::http_get("127.0.0.1", port, "/api/history?series=price/ex-1/S/bid&format=xml",
                               2s)
            .error()
            .ends_with("HTTP 400"));
  CHECK(mkt::runtime::http_get("127.0.0.1", port, "/../etc/passwd", 2s)
            .error()
            .ends_with("HTTP 404"));
  CHECK(raw_status(port, "POST /api/state HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n") ==
        405);
  CHECK(raw_status(port, "GET /api/state HTTP/1.1\r\nHost: x\r\nX-Big: " +
                             std::string(16 << 10, 'a') + "\r\n\r\n") >= 400);
  CHECK(raw_status(port, "NONSENSE\r\n\r\n") == 400);
  CHECK(get(port, "/api/state").is_object());

  CHECK(marketctl({"down", "--run", run}).code == 0);
  CHECK(leftovers(run).empty());
  fs::remove_all(run);
}

TEST_CASE("monitord process: a paused proxy cuts the validators apart, which they report") {
  // Three validators (the drill tests' market): with the proxy frozen, the monitor still reaches
  // every node on the management path, the proxy says nothing, and the validators campaigning
  // through it report their calls to each other failing.
  const Market market(drills + "/market.yaml", "monitord-pause");
  const std::string& run = market.run;
  const int port = market.port;
  const auto cut_between_validators = [&] {
    const auto alerts = get(port, "/api/alerts");
    if (!alerts.is_object()) return false;
    for (const auto& a : alerts.at("active").as_array()) {
      const std::string subject(a.at("subject").as_string());
      if (a.at("rule").as_string() == "partition" && subject.starts_with("val-") &&
          a.at("evidence").as_string().find("fail while") != json::string::npos) {
        return true;
      }
    }
    return false;
  };
  REQUIRE(eventually([&] { return get(port, "/api/state").is_object(); }, 20s, 100ms));
  CHECK_FALSE(cut_between_validators());
  REQUIRE(marketctl({"pause", "netproxy", "--run", run}).code == 0);
  CHECK(eventually(cut_between_validators, 20s, 200ms));
  CHECK(eventually([&] { return !get(port, "/api/state").at("unreachable").as_array().empty(); },
                   5s, 100ms));
  REQUIRE(marketctl({"unpause", "netproxy", "--run", run}).code == 0);
  CHECK(eventually([&] { return !cut_between_validators(); }, 20s, 200ms));
  CHECK(get(port, "/api/state").at("unreachable").as_array().empty());
}
