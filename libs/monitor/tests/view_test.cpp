#include "mkt/monitor/view.h"

#include <catch2/catch_test_macros.hpp>

#include "mkt/scenario/scenario.h"

using namespace mkt::monitor;
using mkt::metrics::parse_text;

namespace {

constexpr std::int64_t s = 1'000'000'000;

// A market of two venues and `validators` validators; `agents`: its agents section.
mkt::scenario::Scenario load(int validators, const std::string& agents) {
  auto scenario = mkt::scenario::parse(R"(version: 1
name: view
topologies:
  lan: {type: mesh, num_nodes: 2, latency_ms: 1}
markets:
  m: {symbols: [S], initial_price: 100, tick_size: 0.01}
exchanges:
  - {id: ex-1, markets: [m]}
  - {id: ex-2, markets: [m]}
)" + agents + "consensus: {protocol: raft, validators: " +
                                           std::to_string(validators) + "}\n",
                                       "view.yaml");
  REQUIRE(scenario.has_value());
  return std::move(*scenario);
}

const mkt::scenario::Scenario& market() {
  static const auto scenario = load(1, R"(agents:
  - {name: mm, strategy: market_maker}
  - {name: ext, strategy: external}
)");
  return scenario;
}

std::vector<mkt::metrics::Series> series(const std::string& text) {
  auto parsed = parse_text(text);
  REQUIRE(parsed.has_value());
  return *parsed;
}

std::string exchange_text(int bid, int ask, int last, int trades) {
  return "exchange_best_price_ticks{symbol=\"S\",side=\"buy\"} " + std::to_string(bid) +
         "\nexchange_best_price_ticks{symbol=\"S\",side=\"sell\"} " + std::to_string(ask) +
         "\nexchange_last_price_ticks{symbol=\"S\"} " + std::to_string(last) +
         "\nexchange_trades_total{symbol=\"S\"} " + std::to_string(trades) +
         "\nexchange_commands_total{kind=\"submit\"} " + std::to_string(trades * 3) +
         "\nexchange_settlement_lag_seconds 0.5\n";
}

LinkReading link(std::uint64_t bytes, std::vector<std::uint64_t> counts, std::uint64_t lost) {
  std::uint64_t n = 0;
  for (auto c : counts) n += c;
  return {.from = "mm",
          .to = "ex-1",
          .partitioned = false,
          .latency_us = 1'000,
          .bandwidth_kbps = 0,
          .loss_ppm = 0,
          .connections_open = 1,
          .bytes = bytes,
          .segments_lost = lost,
          .held_bytes = 0,
          .delay_bounds_us = {1'000, 10'000, 100'000},
          .delay_counts = std::move(counts),
          .delay_count = n,
          .delay_sum_us = static_cast<std::int64_t>(n) * 2'000};
}

}  // namespace

TEST_CASE("view: every node but the monitor and external agents, down until it answers") {
  MarketView view(market(), 10);
  REQUIRE(view.nodes().size() == 5);  // ex-1, ex-2, val-0, mm, the proxy: not ext
  CHECK(view.node("ext") == nullptr);
  for (const auto& n : view.nodes()) CHECK_FALSE(n.up);
  view.scraped("ex-1", 1 * s, std::unexpected(std::string("connection refused")));
  CHECK(view.node("ex-1")->error == "connection refused");
  const Observation o = view.observation();
  REQUIRE(o.nodes.size() == 5);
  CHECK_FALSE(o.nodes[0].up);
  CHECK(o.exchanges.empty());  // only those up
}

TEST_CASE("view: quotes, trade and order rates and settlement lag from exchange scrapes") {
  MarketView view(market(), 3);
  view.scraped("ex-1", 1 * s, series(exchange_text(9'990, 10'010, 10'000, 10)));
  view.scraped("ex-1", 2 * s, series(exchange_text(9'990, 10'010, 10'000, 30)));
  view.scraped("ex-1", 4 * s, series(exchange_text(9'995, 10'010, 10'005, 40)));
  const auto& h = view.history();
  REQUIRE(h.contains("price/ex-1/S/bid"));
  CHECK(h.at("price/ex-1/S/bid").points().back().value == 9'995);
  REQUIRE(h.at("rate/ex-1/S/trades").points().size() == 2);
  CHECK(h.at("rate/ex-1/S/trades").points()[0].value == 20);  // 20 trades in 1 s
  CHECK(h.at("rate/ex-1/S/trades").points()[1].value == 5);   // 10 in 2 s
  CHECK(h.at("rate/ex-1/orders").points()[0].value == 60);
  CHECK(h.at("settlement/ex-1/lag_ms").points().back().value == 500);
  // Quotes remember when they last changed.
  const QuoteView& q = view.quotes().at(0);
  CHECK(q.venue == "ex-1");
  CHECK(q.changed_ns == 4 * s);
  // A ring keeps its last points only.
  view.scraped("ex-1", 5 * s, series(exchange_text(9'995, 10'010, 10'005, 40)));
  view.scraped("ex-1", 6 * s, series(exchange_text(9'995, 10'010, 10'005, 40)));
  CHECK(h.at("price/ex-1/S/bid").points().size() == 3);
  CHECK(h.at("price/ex-1/S/bid").points().front().t_ns == 4 * s);
  CHECK(view.quotes().at(0).changed_ns == 4 * s);
  const Observation o = view.observation();
  REQUIRE(o.quotes.size() == 2);
  CHECK(o.quotes[0].mid_ticks == 10'002.5);
  CHECK_FALSE(o.quotes[1].mid_ticks.has_value());  // ex-2 never answered
  // A counter that goes back (a restart) gives no rate for that interval.
  view.scraped("ex-1", 7 * s, series(exchange_text(9'995, 10'010, 10'005, 2)));
  CHECK(h.at("rate/ex-1/S/trades").points().back().t_ns == 6 * s);
}

TEST_CASE("view: validators and agents as the rules see them") {
  MarketView view(market(), 10);
  view.scraped("val-0", 1 * s, series("raft_term 3\nraft_is_leader 1\nraft_commit_index 42\n"));
  view.scraped("mm", 1 * s,
               series("agent_orders_sent_total 5\nagent_market_data_connected{venue=\"ex-1\"} 1\n"
                      "agent_market_data_connected{venue=\"ex-2\"} 0\nagent_pnl_cents -150\n"
                      "agent_position_lots{symbol=\"S\"} 4\n"));
  view.scraped("mm", 2 * s,
               series("agent_orders_sent_total 9\n"
                      "agent_market_data_connected{venue=\"ex-1\"} 1\n"));
  const Observation o = view.observation();
  REQUIRE(o.validators.size() == 1);
  CHECK(o.validators[0].leads);
  CHECK(o.validators[0].term == 3);
  CHECK(o.validators[0].commit_index == 42);
  REQUIRE(o.feeds.size() == 1);
  CHECK(o.feeds[0].connected);
  CHECK(o.agents_trading);
  CHECK(view.history().at("agent/mm/pnl_cents").points().front().value == -150);
  CHECK(view.history().at("agent/mm/position_lots").points().front().value == 4);
}

TEST_CASE("view: a link's delay, loss and bandwidth over each interval") {
  MarketView view(market(), 10);
  view.links(1 * s, std::vector<LinkReading>{link(0, {0, 0, 0, 0}, 0)});
  CHECK_FALSE(view.link_views().at(0).carried_traffic);
  // 100 chunks: 98 under 1 ms, 2 under 100 ms; 144,800 bytes (100 segments) and 1 lost.
  view.links(2 * s, std::vector<LinkReading>{link(144'800, {98, 0, 2, 0}, 1)});
  const LinkView& l = view.link_views().at(0);
  CHECK(l.carried_traffic);
  CHECK(l.delay_p99_us == 100'000);
  CHECK(l.delay_mean_us == 2'000);
  CHECK(l.loss_ppm > 9'800);
  CHECK(l.loss_ppm < 10'000);
  CHECK(l.kbps == 144'800.0 * 8 / 1000);
  // The next interval has only fast chunks: p99 is of that interval alone.
  view.links(3 * s, std::vector<LinkReading>{link(289'600, {198, 0, 2, 0}, 1)});
  CHECK(view.link_views().at(0).delay_p99_us == 1'000);
  CHECK(view.link_views().at(0).loss_ppm == 0);
  // The proxy unreachable: the last state stays, and why is kept.
  view.links(4 * s, std::unexpected(std::string("timed out")));
  CHECK(view.links_error() == "timed out");
  CHECK(view.link_views().size() == 1);
  const Observation o = view.observation();
  REQUIRE(o.links.size() == 1);
  CHECK(o.links[0].from == "mm");
}

TEST_CASE("view: events are numbered and bounded; a trade records its agents' fills") {
  MarketView view(market(), 10);
  for (int i = 0; i < 1'005; ++i) {
    view.event({.seq = 0,
                .t_ns = (i + 1) * s,
                .node = "ex-1",
                .kind = "trade",
                .text = "t",
                .symbol = "S",
                .buyer = "mm",
                .seller = "someone-else",
                .price_ticks = 10'000 + i,
                .quantity_lots = 1});
  }
  REQUIRE(view.events().size() == 1'000);
  CHECK(view.events().front().seq == 6);
  CHECK(view.events().back().seq == 1'005);
  const auto& fills = view.history().at("fill/mm/S/buy").points();
  CHECK(fills.size() == 10);  // the ring's length
  CHECK(fills.back().value == 11'004);
  CHECK_FALSE(view.history().contains("fill/someone-else/S/sell"));  // not a watched agent
}

TEST_CASE("view: a validator whose calls to a peer that is up fail reports a cut link") {
  const auto three = load(3, "");
  MarketView view(three, 10);
  auto reachable = [](int one, int two) {
    return series(
        "raft_term 2\nraft_is_leader 1\nraft_commit_index 7\n"
        "raft_peer_reachable{peer=\"val-1\"} " +
        std::to_string(one) + "\nraft_peer_reachable{peer=\"val-2\"} " + std::to_string(two) +
        "\n");
  };
  view.scraped("val-0", 1 * s, reachable(0, 0));
  view.scraped("val-1", 1 * s, series("raft_term 2\n"));
  view.scraped("val-2", 1 * s, std::unexpected(std::string("connection refused")));
  // The proxy lists val-0 > val-1 and not the other way round here.
  LinkReading listed;
  listed.from = "val-0";
  listed.to = "val-1";
  view.links(1 * s, std::vector<LinkReading>{listed});
  Observation o = view.observation();
  // val-1 answers the monitor: the link is cut. val-2 does not: that is node_down, not a cut.
  REQUIRE(o.links.size() == 1);
  CHECK(o.links[0].unreachable);
  CHECK_FALSE(o.links[0].partitioned);

  // Without the proxy's link, the report makes one; a reachable peer makes none.
  view.links(2 * s, std::vector<LinkReading>{});
  view.scraped("val-2", 2 * s, series("raft_term 2\n"));
  view.scraped("val-0", 2 * s, reachable(1, 0));
  o = view.observation();
  REQUIRE(o.links.size() == 1);
  CHECK(o.links[0].from == "val-0");
  CHECK(o.links[0].to == "val-2");
  CHECK(o.links[0].unreachable);

  // Healed: no cut.
  view.scraped("val-0", 3 * s, reachable(1, 1));
  CHECK(view.observation().links.empty());
}
