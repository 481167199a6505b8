// The Exchange service end to end in one process, over gRPC on a free port: API keys, two accounts
// crossing through unary calls and through order sessions, every kind of bad input answered with
// its status and changing nothing, market data that a client can follow without gaps, and a
// restart that replays the journal into the same venue.

#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <fstream>
#include <map>

#include "harness.h"

using namespace mkt::exchanged;
using namespace mkt::exchanged::test;
using Catch::Matchers::ContainsSubstring;
using grpc::StatusCode;

TEST_CASE("order entry needs a known API key and the symbol list does not") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  pb::OrderResponse response;
  CHECK(Client(venue.address(), "").submit(limit("STOCK_A", buy, 100, 1), response).error_code() ==
        StatusCode::UNAUTHENTICATED);
  CHECK(Client(venue.address(), "not-a-key-of-anyone")
            .submit(limit("STOCK_A", buy, 100, 1), response)
            .error_code() == StatusCode::UNAUTHENTICATED);

  Client anonymous(venue.address(), "");
  BlockingSession session(anonymous);
  pb::SessionEvent event;
  CHECK_FALSE(session.read(event));
  CHECK(session.stream().Finish().error_code() == StatusCode::UNAUTHENTICATED);

  grpc::ClientContext list_context;
  anonymous.prepare(list_context);
  pb::ListSymbolsResponse symbols;
  REQUIRE(anonymous.stub().ListSymbols(&list_context, {}, &symbols).ok());
  CHECK(symbols.exchange_id() == "ex-1");
  REQUIRE(symbols.symbols_size() == 2);
  CHECK(symbols.symbols(0).symbol() == "STOCK_A");
  CHECK(symbols.symbols(0).tick_size() == "0.01");
  CHECK(symbols.symbols(0).reference_price_ticks() == 10000);
  CHECK(venue.on_strand([](auto& v) { return v.last_order_id(); }) == 0);
}

TEST_CASE("two accounts cross over unary calls and both sides see the trade") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);

  pb::OrderResponse sold;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 10, "a-1"), sold).ok());
  const std::uint64_t sell_id = accepted_id(sold);
  CHECK(sold.events(0).accepted().client_order_id() == "a-1");
  CHECK(sold.events_size() == 1);

  pb::OrderResponse bought;
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10001, 4, "b-1"), bought).ok());
  REQUIRE(bought.events_size() == 2);
  const pb::Fill& fill = bought.events(1).fill();
  CHECK(fill.price_ticks() == 10000);
  CHECK(fill.quantity_lots() == 4);
  CHECK(fill.remaining_quantity_lots() == 0);
  CHECK(fill.liquidity() == pb::LIQUIDITY_TAKER);
  CHECK(fill.client_order_id() == "b-1");
  CHECK(fill.trade_id() == 1);

  pb::OrderState state;
  REQUIRE(alice.get_order(sell_id, state).ok());
  CHECK(state.status() == pb::OrderState::STATUS_RESTING);
  CHECK(state.filled_quantity_lots() == 4);
  CHECK(state.remaining_quantity_lots() == 6);

  pb::AccountState a, b;
  REQUIRE(alice.account(a).ok());
  REQUIRE(bob.account(b).ok());
  CHECK(a.account_id() == "alice");
  CHECK(a.positions(0).quantity_lots() == -4);
  CHECK(b.positions(0).quantity_lots() == 4);
  // STOCK_A: a tick of 0.01 on a lot of 1 is one cent.
  CHECK(a.cash() == 100000 * 100 + 40000);
  CHECK(b.cash() == 50000 * 100 - 40000);
  CHECK(a.open_orders_size() == 1);
  CHECK(a.limits().max_open_orders() == 100);

  pb::OrderResponse modified;
  REQUIRE(alice.modify(sell_id, 10000, 3, modified).ok());
  REQUIRE(modified.events_size() == 1);
  CHECK(modified.events(0).modified().kept_priority());
  pb::OrderResponse cancelled;
  REQUIRE(alice.cancel(sell_id, cancelled).ok());
  CHECK(cancelled.events(0).cancelled().cancelled_quantity_lots() == 3);
  CHECK(cancelled.events(0).cancelled().reason() == pb::OrderCancelled::REASON_REQUESTED);

  const std::string metrics = venue.metrics();
  CHECK_THAT(metrics, ContainsSubstring("exchange_commands_total{kind=\"submit\"} 2\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_commands_total{kind=\"cancel\"} 1\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_trades_total{symbol=\"STOCK_A\"} 1\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_traded_lots_total{symbol=\"STOCK_A\"} 4\n"));
  CHECK_THAT(metrics,
             ContainsSubstring("exchange_book_levels{symbol=\"STOCK_A\",side=\"sell\"} 0\n"));
  CHECK_THAT(metrics,
             ContainsSubstring("exchange_best_price_ticks{symbol=\"STOCK_A\",side=\"sell\"} 0\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_last_price_ticks{symbol=\"STOCK_A\"} 10000\n"));
  CHECK_THAT(metrics, ContainsSubstring("exchange_ack_latency_seconds_count 4\n"));
}

TEST_CASE("bad input gets a precise status and changes nothing") {
  TempDir dir;
  TestVenue venue(dir.file("journal"), 4096);
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 10, "a-1"), response).ok());
  const std::uint64_t id = accepted_id(response);

  auto status_of = [&](const pb::SubmitOrderRequest& request) {
    pb::OrderResponse out;
    const grpc::Status status = bob.submit(request, out);
    return std::pair{status.error_code(), status.error_message()};
  };
  CHECK(
      status_of(limit("NOPE", buy, 100, 1)) ==
      std::pair{StatusCode::INVALID_ARGUMENT, std::string("symbol 'NOPE' is not listed on ex-1")});
  CHECK(status_of(limit("STOCK_A", buy, 100, 0)) ==
        std::pair{StatusCode::INVALID_ARGUMENT,
                  std::string("quantity_lots must be positive, got 0")});
  CHECK(status_of(limit("STOCK_A", buy, 100, -5)).first == StatusCode::INVALID_ARGUMENT);
  CHECK(
      status_of(limit("STOCK_A", buy, -1, 5)) ==
      std::pair{StatusCode::INVALID_ARGUMENT, std::string("price_ticks must be positive, got -1")});
  CHECK(status_of(limit("STOCK_A", market::common::v1::SIDE_UNSPECIFIED, 100, 5)).first ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(status_of(limit("STOCK_A", buy, 100, 5000)) ==
        std::pair{StatusCode::FAILED_PRECONDITION,
                  std::string("quantity 5000 lots is above the limit of 1000")});
  CHECK(status_of(limit("STOCK_A", sell, 10000, 1, std::string(100, 'x'))).first ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(status_of(limit("STOCK_A", sell, 10000, 1, std::string(5000, 'x'))).first ==
        StatusCode::RESOURCE_EXHAUSTED);  // above the 4096-byte message limit

  pb::SubmitOrderRequest post_only_ioc = limit("STOCK_A", buy, 9000, 1);
  post_only_ioc.set_post_only(true);
  post_only_ioc.set_time_in_force(pb::TIME_IN_FORCE_IOC);
  CHECK(status_of(post_only_ioc).first == StatusCode::INVALID_ARGUMENT);

  // Valid orders that cannot trade are answered with a rejection event and OK.
  pb::SubmitOrderRequest fok = limit("STOCK_A", buy, 10000, 50, "fok-1");
  fok.set_time_in_force(pb::TIME_IN_FORCE_FOK);
  pb::OrderResponse killed;
  REQUIRE(bob.submit(fok, killed).ok());
  REQUIRE(killed.events_size() == 1);
  CHECK(killed.events(0).rejected().reason() == pb::REJECT_REASON_FOK_UNFILLABLE);
  CHECK(killed.events(0).rejected().order_id() == 0);
  CHECK(killed.events(0).rejected().client_order_id() == "fok-1");

  CHECK(alice.submit(limit("STOCK_A", sell, 10001, 1, "a-1"), response).error_code() ==
        StatusCode::ALREADY_EXISTS);
  CHECK(bob.cancel(id, response).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(bob.modify(id, 10000, 1, response).error_code() == StatusCode::PERMISSION_DENIED);
  pb::OrderState state;
  CHECK(bob.get_order(id, state).error_code() == StatusCode::PERMISSION_DENIED);
  CHECK(bob.cancel(999, response).error_code() == StatusCode::NOT_FOUND);
  CHECK(bob.cancel(0, response).error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(alice.modify(id, 10000, 0, response).error_code() == StatusCode::INVALID_ARGUMENT);
  CHECK(alice.get_order(999, state).error_code() == StatusCode::NOT_FOUND);

  // Nothing changed: one order, untouched, and no ids were taken.
  REQUIRE(alice.get_order(id, state).ok());
  CHECK(state.remaining_quantity_lots() == 10);
  CHECK(venue.on_strand([](auto& v) { return v.last_order_id(); }) == 1);
  CHECK(venue.on_strand([](auto& v) { return v.md_seq(0); }) == 1);
  CHECK_THAT(
      venue.metrics(),
      ContainsSubstring("exchange_rejections_total{reason=\"REJECT_REASON_FOK_UNFILLABLE\"} 1\n"));
}

TEST_CASE("order sessions push acks and fills to both sides with gap-free sequence numbers") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  Client alice_client(venue.address(), alice_key);
  Client bob_client(venue.address(), bob_key);
  BlockingSession alice(alice_client);
  BlockingSession bob(bob_client);

  pb::SessionRequest request;
  request.set_request_id(7);
  *request.mutable_submit() = limit("STOCK_B", sell, 5000, 10, "s-1");
  REQUIRE(alice.send(request));
  pb::SessionEvent event = alice.next();
  CHECK(event.session_seq() == 1);
  CHECK(event.request_id() == 7);
  REQUIRE(event.event().has_accepted());
  CHECK(alice.header().sender() == "ex-1");
  const std::uint64_t resting = event.event().accepted().order_id();

  request.set_request_id(9);
  *request.mutable_submit() = limit("STOCK_B", buy, 5000, 4, "b-1");
  REQUIRE(bob.send(request));
  event = bob.next();
  CHECK((event.session_seq() == 1 && event.request_id() == 9 && event.event().has_accepted()));
  event = bob.next();
  CHECK((event.session_seq() == 2 && event.request_id() == 9));
  CHECK(event.event().fill().liquidity() == pb::LIQUIDITY_TAKER);

  // The maker hears of its fill with request id 0: someone else's request caused it.
  event = alice.next();
  CHECK(event.session_seq() == 2);
  CHECK(event.request_id() == 0);
  CHECK(event.event().fill().order_id() == resting);
  CHECK(event.event().fill().liquidity() == pb::LIQUIDITY_MAKER);
  CHECK(event.event().fill().remaining_quantity_lots() == 6);
  CHECK(event.event().fill().side() == sell);

  // Rejections come back on the session, to the requester only.
  request.set_request_id(10);
  request.mutable_cancel()->set_order_id(resting);
  REQUIRE(bob.send(request));
  event = bob.next();
  CHECK((event.session_seq() == 3 && event.request_id() == 10));
  CHECK(event.event().rejected().reason() == pb::REJECT_REASON_NOT_OWNER);
  request.set_request_id(11);
  *request.mutable_submit() = limit("NOPE", buy, 5000, 1);
  REQUIRE(bob.send(request));
  event = bob.next();
  CHECK(event.session_seq() == 4);
  CHECK(event.event().rejected().reason() == pb::REJECT_REASON_UNKNOWN_SYMBOL);

  // A unary cancel of the session's order is seen on the session too.
  pb::OrderResponse response;
  REQUIRE(alice_client.cancel(resting, response).ok());
  event = alice.next();
  CHECK(event.session_seq() == 3);
  CHECK(event.event().cancelled().cancelled_quantity_lots() == 6);

  REQUIRE(bob.stream().WritesDone());
  CHECK_FALSE(bob.read(event));
  CHECK(bob.stream().Finish().ok());
}

TEST_CASE("an order session answers each request of a batch as if it had come alone, in order") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  Client alice_client(venue.address(), alice_key);
  BlockingSession alice(alice_client);

  pb::SessionRequests batch;
  auto add = [&](std::uint64_t id, pb::SubmitOrderRequest submit) {
    pb::SessionRequest& request = *batch.add_requests();
    request.set_request_id(id);
    *request.mutable_submit() = std::move(submit);
  };
  add(1, limit("STOCK_A", buy, 9000, 1, "x-1"));
  add(2, limit("NOPE", buy, 9000, 1));
  add(3, limit("STOCK_A", buy, 9001, 2, "x-1"));
  add(4, limit("STOCK_A", buy, 9001, 2, "x-2"));
  REQUIRE(alice.send_batch(batch));
  REQUIRE(alice.send_batch({}));  // an empty message asks nothing and gets nothing
  pb::SessionEvent event = alice.next();
  CHECK((event.session_seq() == 1 && event.request_id() == 1 && event.event().has_accepted()));
  event = alice.next();
  CHECK((event.session_seq() == 2 && event.request_id() == 2));
  CHECK(event.event().rejected().reason() == pb::REJECT_REASON_UNKNOWN_SYMBOL);
  event = alice.next();
  CHECK((event.session_seq() == 3 && event.request_id() == 3));
  CHECK(event.event().rejected().reason() == pb::REJECT_REASON_DUPLICATE_CLIENT_ID);
  event = alice.next();
  CHECK((event.session_seq() == 4 && event.request_id() == 4 && event.event().has_accepted()));

  // 200 submits and their cancels written without waiting (the venue numbers orders one by one):
  // every answer comes once, in order, however the exchange puts them into messages.
  const auto first_order = venue.on_strand([](auto& v) { return v.last_order_id(); }) + 1;
  for (std::uint64_t i = 0; i < 200; ++i) {
    pb::SessionRequest request;
    request.set_request_id(100 + 2 * i);
    *request.mutable_submit() = limit("STOCK_A", buy, 8000 + static_cast<std::int64_t>(i % 50), 1);
    REQUIRE(alice.send(request));
    request.set_request_id(101 + 2 * i);
    request.mutable_cancel()->set_order_id(first_order + i);
    REQUIRE(alice.send(request));
  }
  int out_of_order = 0;
  for (std::uint64_t n = 0; n < 400; ++n) {
    event = alice.next();
    const bool expected =
        event.session_seq() == 5 + n && event.request_id() == 100 + n &&
        (n % 2 == 0 ? event.event().has_accepted() : event.event().has_cancelled());
    if (!expected) ++out_of_order;
  }
  CHECK(out_of_order == 0);
  pb::AccountState account;
  REQUIRE(alice_client.account(account).ok());
  CHECK(account.open_orders_size() == 2);
}

TEST_CASE("market data: a snapshot, then every change in sequence, agreeing with new snapshots") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10005, 5), response).ok());
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10003, 5), response).ok());

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  pb::MarketDataRequest request;  // every symbol
  auto reader = bob.stub().StreamMarketData(&context, request);
  std::map<std::string, FollowedBook> books;
  pb::MarketDataEvent event;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(reader->Read(&event));
    REQUIRE(event.has_snapshot());
    books[event.snapshot().symbol()].apply(event);
  }
  CHECK(books["STOCK_A"].seq == 2);
  CHECK(books["STOCK_A"].ask_levels() == Levels{{10003, 5}, {10005, 5}});
  CHECK(books["STOCK_B"].seq == 0);

  // Changes: a new bid, a trade through two levels, a cancel; 2 + 1 + 4 + 1 messages.
  REQUIRE(bob.submit(limit("STOCK_A", buy, 9990, 3), response).ok());
  const std::uint64_t bid = accepted_id(response);
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10005, 7), response).ok());
  REQUIRE(bob.cancel(bid, response).ok());
  REQUIRE(alice.submit(limit("STOCK_B", buy, 4000, 1), response).ok());
  while (books["STOCK_A"].seq < 8 || books["STOCK_B"].seq < 1) {
    REQUIRE(reader->Read(&event));
    books[event.has_delta() ? event.delta().symbol() : event.trade().symbol()].apply(event);
  }
  CHECK_FALSE(books["STOCK_A"].gap);
  CHECK(books["STOCK_A"].trades == 2);
  CHECK(books["STOCK_A"].bid_levels().empty());
  CHECK(books["STOCK_A"].ask_levels() == Levels{{10005, 3}});

  const pb::MarketDataEvent fresh = snapshot_of(alice, "STOCK_A");
  CHECK(fresh.snapshot().seq() == books["STOCK_A"].seq);
  CHECK(levels_of(fresh.snapshot().asks()) == books["STOCK_A"].ask_levels());
  CHECK(fresh.snapshot().last_trade_price_ticks() == 10005);

  grpc::ClientContext bad_context;
  bad_context.set_deadline(std::chrono::system_clock::now() + 5s);
  pb::MarketDataRequest bad;
  bad.add_symbols("NOPE");
  auto bad_reader = bob.stub().StreamMarketData(&bad_context, bad);
  CHECK_FALSE(bad_reader->Read(&event));
  CHECK(bad_reader->Finish().error_code() == StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("a restart replays the journal into the same venue and cuts a torn record") {
  TempDir dir;
  const std::string journal = dir.file("journal");
  Levels bids, asks;
  pb::AccountState before;
  {
    TestVenue venue(journal);
    Client alice(venue.address(), alice_key);
    Client bob(venue.address(), bob_key);
    pb::OrderResponse response;
    for (int i = 0; i < 20; ++i) {
      REQUIRE(alice.submit(limit("STOCK_A", sell, 10000 + i % 5, 3), response).ok());
      REQUIRE(bob.submit(limit("STOCK_A", buy, 9990 + i % 7, 2), response).ok());
    }
    REQUIRE(bob.submit(limit("STOCK_A", buy, 10002, 4), response).ok());  // two trades
    REQUIRE(response.events_size() == 3);
    REQUIRE(alice.modify(3, 10010, 1, response).ok());
    REQUIRE(alice.account(before).ok());
    const auto snapshot = snapshot_of(alice, "STOCK_A").snapshot();
    bids = levels_of(snapshot.bids());
    asks = levels_of(snapshot.asks());
  }
  std::ofstream(journal, std::ios::app | std::ios::binary) << std::string("\x20\x00\x00", 3);

  TestVenue venue(journal);
  CHECK(venue.replay().records == 42);
  CHECK(venue.replay().torn_bytes_dropped == 3);
  Client alice(venue.address(), alice_key);
  const auto snapshot = snapshot_of(alice, "STOCK_A").snapshot();
  CHECK(levels_of(snapshot.bids()) == bids);
  CHECK(levels_of(snapshot.asks()) == asks);
  pb::AccountState after;
  REQUIRE(alice.account(after).ok());
  CHECK(after.SerializeAsString() == before.SerializeAsString());
}

TEST_CASE("telemetry streams order and trade events with both accounts") {
  TempDir dir;
  TestVenue venue(dir.file("journal"));
  auto telemetry = market::telemetry::v1::Telemetry::NewStub(
      mkt::runtime::make_channel(venue.address(), {"monitor", "", 4 << 20}));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  market::telemetry::v1::StreamEventsRequest request;
  request.add_kinds("order");
  request.add_kinds("trade");
  auto reader = telemetry->StreamEvents(&context, request);
  // The stream is open once the service wants order events.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!venue.on_strand(
      [&](auto&) { return venue.telemetry().wants(market::telemetry::v1::Event::kOrder); })) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
  }

  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 5), response).ok());
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10000, 5), response).ok());
  CHECK(bob.submit(limit("NOPE", buy, 1, 1), response).error_code() ==
        StatusCode::INVALID_ARGUMENT);

  std::vector<std::string> seen;
  market::telemetry::v1::Event event;
  while (seen.size() < 4) {
    REQUIRE(reader->Read(&event));
    if (event.has_order()) {
      seen.push_back(event.order().account_id() + " " + event.order().what());
    } else {
      seen.push_back("trade " + event.trade().buyer_account() + " from " +
                     event.trade().seller_account());
    }
  }
  CHECK(seen == std::vector<std::string>{"alice accepted", "bob accepted", "trade bob from alice",
                                         "bob rejected"});
  CHECK(event.order().detail() ==
        "REJECT_REASON_UNKNOWN_SYMBOL: symbol 'NOPE' is not listed on ex-1");
}

TEST_CASE("orders and fills carry the time of the clock the service is given") {
  TempDir dir;
  mkt::runtime::ManualClock clock(1'700'000'000'000'000'000, 5'000);
  TestVenue venue(dir.file("journal"), 64 * 1024, {}, 4096, &clock);
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse sold;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 3), sold).ok());
  CHECK(sold.events(0).accepted().accepted_at_ns() == 1'700'000'000'000'000'000);
  clock.advance_ns(1'000);
  pb::OrderResponse bought;
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10000, 3), bought).ok());
  REQUIRE(bought.events_size() == 2);
  CHECK(bought.events(1).fill().executed_at_ns() == 1'700'000'000'000'001'000);
}

TEST_CASE("order entry beyond an account's rate is refused with a retry hint and changes nothing") {
  TempDir dir;
  mkt::runtime::ManualClock clock(1'700'000'000'000'000'000, 1'000);
  TestVenue venue(dir.file("journal"), 64 * 1024, {}, 4096, &clock, [](ServiceOptions& options) {
    options.orders_per_second = 10;  // a token every 100 ms
    options.order_burst = 2;
  });
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10005, 1), response).ok());
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10006, 1), response).ok());
  // The third within the same instant: refused over unary, with when to come back.
  grpc::ClientContext context;
  alice.prepare(context);
  const auto status =
      alice.stub().SubmitOrder(&context, limit("STOCK_A", sell, 10007, 1), &response);
  CHECK(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(),
             ContainsSubstring("account alice may send 10 orders, cancels and modifies a second "
                               "(bursts of 2); retry in 100 ms"));
  const auto& trailing = context.GetServerTrailingMetadata();
  REQUIRE(trailing.count("x-retry-after-ms") == 1);
  CHECK(std::string(trailing.find("x-retry-after-ms")->second.data(),
                    trailing.find("x-retry-after-ms")->second.size()) == "100");
  // ... and over a session, as a rejection event; cancels count too.
  {
    BlockingSession session(alice);
    pb::SessionRequest request;
    request.set_request_id(7);
    request.mutable_cancel()->set_order_id(1);
    REQUIRE(session.send(request));
    const pb::SessionEvent event = session.next();
    CHECK(event.request_id() == 7);
    REQUIRE(event.event().has_rejected());
    CHECK(event.event().rejected().reason() == pb::REJECT_REASON_RATE_LIMITED);
    CHECK(event.event().rejected().retry_after_ms() == 100);
    session.stream().WritesDone();
  }
  pb::AccountState state;
  REQUIRE(alice.account(state).ok());
  CHECK(state.open_orders_size() == 2);  // nothing refused reached the venue
  // Another account has its own bucket; alice's refills with time.
  REQUIRE(bob.submit(limit("STOCK_A", buy, 9990, 1), response).ok());
  clock.advance_ns(100'000'000);
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10007, 1), response).ok());
  REQUIRE(response.events(0).has_accepted());
}

TEST_CASE("a market data subscriber that does not read is cut off with the reason") {
  TempDir dir;
  TestVenue venue(
      dir.file("journal"), 64 * 1024, {}, 4096, &mkt::runtime::system_clock(),
      [](ServiceOptions& options) { options.market_data_stream.queued_messages_max = 16; });
  Client alice(venue.address(), alice_key);
  // A reader whose transport takes little ahead of it: no window growth (BDP probing), a small
  // lookahead, so the venue's side fills after a few kilobytes rather than megabytes.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1024);
  auto slow = pb::Exchange::NewStub(
      grpc::CreateCustomChannel(venue.address(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  pb::MarketDataRequest request;
  request.add_symbols("STOCK_A");
  auto reader = slow->StreamMarketData(&context, request);
  pb::MarketDataEvent event;
  REQUIRE(reader->Read(&event));  // the snapshot: subscribed
  // Not reading: gRPC's flow-control windows fill, then the stream's queue, then it is cut.
  pb::OrderResponse response;
  for (int i = 0; i < 2'000; ++i) {  // each a level added and removed
    REQUIRE(alice.submit(limit("STOCK_A", sell, 10100, 1), response).ok());
    REQUIRE(alice.cancel(accepted_id(response), response).ok());
  }
  while (reader->Read(&event)) {
  }
  const auto status = reader->Finish();
  CHECK(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), ContainsSubstring("the client reads too slowly"));
  // The venue goes on for everyone else.
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10100, 1), response).ok());
  REQUIRE(response.events(0).has_accepted());
}

TEST_CASE("with the ledger behind by the bound, new orders wait and cancels go through") {
  TempDir dir;
  // A ledger that never answers: every trade stays unsettled.
  TestVenue venue(dir.file("journal"), 64 * 1024, {"127.0.0.1:1"}, 4096,
                  &mkt::runtime::system_clock(),
                  [](ServiceOptions& options) { options.unsettled_trades_max = 2; });
  Client alice(venue.address(), alice_key);
  Client bob(venue.address(), bob_key);
  pb::OrderResponse response;
  REQUIRE(alice.submit(limit("STOCK_A", sell, 10000, 5), response).ok());
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10000, 1), response).ok());
  REQUIRE(bob.submit(limit("STOCK_A", buy, 10000, 1), response).ok());
  REQUIRE(venue.settlement() != nullptr);
  CHECK(venue.on_strand([&](auto&) { return venue.settlement()->unsettled_trades(); }) == 2);
  // The third order is refused before the venue sees it, with when to come back...
  grpc::ClientContext context;
  bob.prepare(context);
  const auto status = bob.stub().SubmitOrder(&context, limit("STOCK_A", buy, 10000, 1), &response);
  CHECK(status.error_code() == StatusCode::UNAVAILABLE);
  CHECK(status.error_message() ==
        "2 trades wait for the ledger (at most 2 may): new orders wait until settlement catches "
        "up; cancels go through");
  const auto& trailing = context.GetServerTrailingMetadata();
  CHECK(trailing.count("x-retry-after-ms") == 1);
  // ... and over a session as a rejection with its reason.
  {
    BlockingSession session(bob);
    pb::SessionRequest request;
    request.set_request_id(3);
    *request.mutable_submit() = limit("STOCK_A", buy, 10000, 1);
    REQUIRE(session.send(request));
    const pb::SessionEvent event = session.next();
    REQUIRE(event.event().has_rejected());
    CHECK(event.event().rejected().reason() == pb::REJECT_REASON_SETTLEMENT_BACKLOG);
    session.stream().WritesDone();
  }
  // A cancel makes no trade: alice takes her resting rest off the book.
  pb::AccountState state;
  REQUIRE(alice.account(state).ok());
  REQUIRE(state.open_orders_size() == 1);
  REQUIRE(alice.cancel(state.open_orders(0).order_id(), response).ok());
  REQUIRE(response.events(0).has_cancelled());
  CHECK(venue.on_strand([&](auto&) { return venue.settlement()->unsettled_trades(); }) == 2);
  CHECK_THAT(venue.metrics(),
             ContainsSubstring("exchange_rejections_total{reason=\"REJECT_REASON_SETTLEMENT_"
                               "BACKLOG\"} 2"));
}
