// Manual trading and the ledger: order submit|cancel, book, ledger tail.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iostream>

#include "cli.h"
#include "client.h"
#include "cluster.h"
#include "market/exchange/v1/exchange.grpc.pb.h"
#include "market/ledger/v1/ledger.grpc.pb.h"
#include "mkt/core/decimal.h"
#include "mkt/core/enum_table.h"
#include "mkt/runtime/accounts_file.h"
#include "mkt/runtime/clock.h"

namespace mkt::marketctl {
namespace {

namespace po = boost::program_options;
namespace epb = market::exchange::v1;
namespace lpb = market::ledger::v1;
namespace cpb = market::common::v1;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A price in ticks as the symbol's currency ("100.05"), or the ticks when the symbol is unknown.
std::string price_text(const scenario::Symbol* symbol, std::int64_t ticks) {
  if (!symbol) return std::to_string(ticks) + " ticks";
  auto price = core::multiply({ticks, 0}, symbol->tick_size);
  return price ? price->to_string() : std::to_string(ticks) + " ticks";
}

const scenario::Symbol* find_symbol(const scenario::Scenario& scenario, const std::string& exchange,
                                    const std::string& name) {
  const auto* node = scenario.find_node(exchange);
  if (!node || node->role != scenario::Role::exchange) return nullptr;
  for (const auto* symbol : scenario.symbols_of(*node)) {
    if (symbol->name == name) return symbol;
  }
  return nullptr;
}

std::string side_text(cpb::Side side) {
  return side == cpb::SIDE_BUY ? "buy" : "sell";
}

// The exchange named by --venue, or the only one.
std::expected<const runtime::NodeRecord*, std::string> venue_of(const Market& market,
                                                                const std::string& venue) {
  if (!venue.empty()) return market.running(venue);
  const auto exchanges = market.scenario.nodes_with_role(scenario::Role::exchange);
  if (exchanges.size() != 1) {
    std::string ids;
    for (const auto* node : exchanges) ids += " " + node->id;
    return std::unexpected("name the exchange with --venue; this market has:" + ids);
  }
  return market.running(exchanges.front()->id);
}

void print_events(const epb::OrderResponse& response, const scenario::Symbol* symbol) {
  for (const auto& event : response.events()) {
    if (event.has_accepted()) {
      std::cout << "accepted: order " << event.accepted().order_id() << " (client id "
                << event.accepted().client_order_id() << ")\n";
    } else if (event.has_rejected()) {
      std::cout << "rejected: " << epb::RejectReason_Name(event.rejected().reason()) << ": "
                << event.rejected().detail() << "\n";
    } else if (event.has_fill()) {
      const auto& f = event.fill();
      std::cout << "fill: trade " << f.trade_id() << ", " << side_text(f.side()) << " "
                << f.quantity_lots() << " @ " << price_text(symbol, f.price_ticks()) << " ("
                << (f.liquidity() == epb::LIQUIDITY_MAKER ? "maker" : "taker") << "), "
                << f.remaining_quantity_lots() << " left\n";
    } else if (event.has_cancelled()) {
      std::cout << "cancelled: order " << event.cancelled().order_id() << ", "
                << event.cancelled().cancelled_quantity_lots() << " lots ("
                << epb::OrderCancelled::Reason_Name(event.cancelled().reason()) << ")\n";
    } else if (event.has_triggered()) {
      std::cout << "stop triggered: order " << event.triggered().order_id() << "\n";
    }
  }
}

}  // namespace

int order_command(int argc, char** argv) {
  po::options_description options("order options");
  // clang-format off
  options.add_options()
      ("action", po::value<std::string>()->required(), "submit or cancel")
      ("venue", po::value<std::string>()->default_value(""),
       "the exchange (default: the only one)")
      ("account", po::value<std::string>()->default_value(runtime::operator_account),
       "trade as this account (its key is in <run>/accounts)")
      ("symbol", po::value<std::string>()->default_value(""), "submit: the symbol")
      ("side", po::value<std::string>()->default_value(""), "submit: buy or sell")
      ("quantity", po::value<std::int64_t>()->default_value(0), "submit: lots")
      ("price", po::value<std::string>()->default_value(""),
       "submit: the limit price in the symbol's currency, as in 100.05 (a multiple of the tick)")
      ("type", po::value<std::string>()->default_value("limit"),
       "submit: limit, market, stop or stop-limit")
      ("tif", po::value<std::string>()->default_value("gtc"), "submit: gtc, ioc or fok")
      ("stop-price", po::value<std::string>()->default_value(""), "submit: a stop order's trigger")
      ("post-only", "submit: refuse instead of taking liquidity")
      ("client-id", po::value<std::string>()->default_value(""),
       "submit: your id for the order (default: made from the time)")
      ("id", po::value<std::uint64_t>()->default_value(0), "cancel: the exchange's order id");
  // clang-format on
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse_command(
      argc, argv,
      "Usage: marketctl order submit --symbol S --side buy|sell --quantity N [--price P] "
      "[--venue EX]\n"
      "       marketctl order cancel --id ORDER_ID [--venue EX]\n\n"
      "Sends one order (or cancel) to an exchange as --account (default: operator) and prints "
      "what\nit caused: acceptance or rejection with the reason, fills, cancels.\n",
      options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  const auto action = flags["action"].as<std::string>();
  if (action != "submit" && action != "cancel") {
    return fail("order", "unknown action '" + action + "' (submit or cancel)", 2);
  }
  auto market = open_market(flags);
  if (!market) return fail("order", market.error());
  auto venue = venue_of(*market, flags["venue"].as<std::string>());
  if (!venue) return fail("order", venue.error());
  const auto account = flags["account"].as<std::string>();
  auto key = api_key(*market, account);
  if (!key) return fail("order", key.error());
  auto stub = epb::Exchange::NewStub(market->channel(**venue));
  grpc::ClientContext context;
  context.set_deadline(deadline_in(5s));
  context.AddMetadata("x-api-key", *key);
  epb::OrderResponse response;
  const scenario::Symbol* symbol = nullptr;
  grpc::Status status;
  if (action == "cancel") {
    if (flags["id"].as<std::uint64_t>() == 0) return fail("order cancel", "--id is required", 2);
    epb::CancelOrderRequest request;
    runtime::stamp(*request.mutable_header(), "marketctl");
    request.set_order_id(flags["id"].as<std::uint64_t>());
    status = stub->CancelOrder(&context, request, &response);
  } else {
    const auto symbol_name = flags["symbol"].as<std::string>();
    symbol = find_symbol(market->scenario, (*venue)->id, symbol_name);
    if (!symbol) {
      std::string listed;
      if (const auto* node = market->scenario.find_node((*venue)->id)) {
        for (const auto* s : market->scenario.symbols_of(*node)) listed += " " + s->name;
      }
      return fail("order submit",
                  "--symbol '" + symbol_name + "' is not traded on " + (*venue)->id +
                      "; it lists:" + listed,
                  2);
    }
    epb::SubmitOrderRequest request;
    runtime::stamp(*request.mutable_header(), "marketctl");
    request.set_symbol(symbol_name);
    const auto side = flags["side"].as<std::string>();
    if (side != "buy" && side != "sell")
      return fail("order submit", "--side must be buy or sell", 2);
    request.set_side(side == "buy" ? cpb::SIDE_BUY : cpb::SIDE_SELL);
    if (flags["quantity"].as<std::int64_t>() <= 0) {
      return fail("order submit", "--quantity must be a positive number of lots", 2);
    }
    request.set_quantity_lots(flags["quantity"].as<std::int64_t>());
    const auto ticks = [&](const char* flag) -> std::expected<std::int64_t, std::string> {
      const auto text = flags[flag].as<std::string>();
      auto value = core::parse_decimal(text);
      if (!value)
        return std::unexpected("--" + std::string(flag) + " '" + text +
                               "': " + core::describe(value.error()));
      if (value->is_negative() || value->is_zero()) {
        return std::unexpected("--" + std::string(flag) + " " + text + " must be positive");
      }
      auto result = core::divide_exact(*value, symbol->tick_size);
      if (!result) {
        return std::unexpected("--" + std::string(flag) + " " + text + " is not a multiple of " +
                               symbol->name + "'s tick " + symbol->tick_size.to_string());
      }
      return *result;
    };
    const auto type = flags["type"].as<std::string>();
    constexpr auto types = core::enum_table<epb::OrderType, std::string_view>(
        {{epb::ORDER_TYPE_LIMIT, "limit"},
         {epb::ORDER_TYPE_MARKET, "market"},
         {epb::ORDER_TYPE_STOP, "stop"},
         {epb::ORDER_TYPE_STOP_LIMIT, "stop-limit"}});
    const auto wire_type = types.first_of(type);
    if (!wire_type) {
      return fail("order submit", "--type must be limit, market, stop or stop-limit", 2);
    }
    request.set_type(*wire_type);
    const bool priced = type == "limit" || type == "stop-limit";
    if (priced) {
      if (flags["price"].as<std::string>().empty()) {
        return fail("order submit", "a " + type + " order needs --price", 2);
      }
      auto price = ticks("price");
      if (!price) return fail("order submit", price.error(), 2);
      request.set_price_ticks(*price);
    }
    if (type == "stop" || type == "stop-limit") {
      if (flags["stop-price"].as<std::string>().empty()) {
        return fail("order submit", "a " + type + " order needs --stop-price", 2);
      }
      auto stop = ticks("stop-price");
      if (!stop) return fail("order submit", stop.error(), 2);
      request.set_stop_price_ticks(*stop);
    }
    const auto tif = flags["tif"].as<std::string>();
    constexpr auto tifs =
        core::enum_table<epb::TimeInForce, std::string_view>({{epb::TIME_IN_FORCE_GTC, "gtc"},
                                                              {epb::TIME_IN_FORCE_IOC, "ioc"},
                                                              {epb::TIME_IN_FORCE_FOK, "fok"}});
    const auto wire_tif = tifs.first_of(tif);
    if (!wire_tif) return fail("order submit", "--tif must be gtc, ioc or fok", 2);
    if (type != "market") request.set_time_in_force(*wire_tif);
    request.set_post_only(flags.count("post-only") != 0);
    auto client_id = flags["client-id"].as<std::string>();
    if (client_id.empty()) client_id = "marketctl-" + std::to_string(runtime::wall_clock_ns());
    request.set_client_order_id(client_id);
    std::cout << account << " " << side << " " << request.quantity_lots() << " " << symbol_name;
    if (priced) std::cout << " @ " << price_text(symbol, request.price_ticks());
    std::cout << " on " << (*venue)->id << "\n";
    status = stub->SubmitOrder(&context, request, &response);
  }
  if (!status.ok()) {
    return fail("order " + action, rpc_error(status));
  }
  print_events(response, symbol);
  for (const auto& event : response.events()) {
    if (event.has_rejected()) return 1;
  }
  return 0;
}

int book_command(int argc, char** argv) {
  po::options_description options("book options");
  options.add_options()("symbol", po::value<std::string>()->required(), "the symbol")(
      "venue", po::value<std::string>()->default_value(""), "the exchange (default: the only one)")(
      "depth", po::value<unsigned>()->default_value(10), "price levels per side");
  po::positional_options_description positional;
  positional.add("symbol", 1);
  const auto vm = parse_command(argc, argv,
                                "Usage: marketctl book <symbol> [--venue EX] [--depth N]\n\n"
                                "Prints the book of one symbol as the exchange publishes it "
                                "(its market data snapshot).\n",
                                options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  auto market = open_market(flags);
  if (!market) return fail("book", market.error());
  auto venue = venue_of(*market, flags["venue"].as<std::string>());
  if (!venue) return fail("book", venue.error());
  const auto name = flags["symbol"].as<std::string>();
  const auto* symbol = find_symbol(market->scenario, (*venue)->id, name);
  if (!symbol) return fail("book", "'" + name + "' is not traded on " + (*venue)->id, 2);
  auto stub = epb::Exchange::NewStub(market->channel(**venue));
  grpc::ClientContext context;
  context.set_deadline(deadline_in(5s));
  epb::MarketDataRequest request;
  request.add_symbols(name);
  request.set_depth(flags["depth"].as<unsigned>());
  auto reader = stub->StreamMarketData(&context, request);
  epb::MarketDataEvent event;
  while (reader->Read(&event) && !event.has_snapshot()) {
  }
  context.TryCancel();
  if (!event.has_snapshot()) {
    return fail("book",
                "no snapshot from " + (*venue)->id + ": " + reader->Finish().error_message());
  }
  const auto& book = event.snapshot();
  std::cout << (*venue)->id << " " << name << " (sequence " << book.seq() << ", last trade "
            << (book.last_trade_price_ticks() ? price_text(symbol, book.last_trade_price_ticks())
                                              : "none")
            << ")\n";
  std::printf("%12s %6s %12s | %-12s %-6s %-12s\n", "BID LOTS", "ORDERS", "BID", "ASK", "ORDERS",
              "ASK LOTS");
  const auto rows = std::max(book.bids_size(), book.asks_size());
  for (int i = 0; i < rows; ++i) {
    std::string left(33, ' ');
    std::string right;
    char buffer[128];
    if (i < book.bids_size()) {
      const auto& l = book.bids(i);
      std::snprintf(buffer, sizeof buffer, "%12lld %6u %12s",
                    static_cast<long long>(l.quantity_lots()), l.order_count(),
                    price_text(symbol, l.price_ticks()).c_str());
      left = buffer;
    }
    if (i < book.asks_size()) {
      const auto& l = book.asks(i);
      std::snprintf(buffer, sizeof buffer, "%-12s %-6u %-12lld",
                    price_text(symbol, l.price_ticks()).c_str(), l.order_count(),
                    static_cast<long long>(l.quantity_lots()));
      right = buffer;
    }
    std::cout << left << " | " << right << "\n";
  }
  if (rows == 0) std::cout << "(empty)\n";
  return 0;
}

int ledger_command(int argc, char** argv) {
  po::options_description options("ledger options");
  options.add_options()("action", po::value<std::string>()->required(), "tail")(
      "from", po::value<std::uint64_t>()->default_value(0),
      "first log index to print (default: the last --count entries)")(
      "count", po::value<std::uint64_t>()->default_value(10), "entries to print without --from")(
      "follow,f", "keep printing entries as they commit, until Ctrl-C")(
      "validator", po::value<std::string>()->default_value(""),
      "read from this validator (default: the leader)");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse_command(argc, argv,
                                "Usage: marketctl ledger tail [--from INDEX | --count N] "
                                "[--follow]\n\n"
                                "Prints committed ledger entries: each batch of trades an "
                                "exchange reported, in\ncommit order.\n",
                                options, positional);
  if (!vm) return vm.error();
  const auto& flags = *vm;
  if (flags["action"].as<std::string>() != "tail") {
    return fail("ledger", "unknown action '" + flags["action"].as<std::string>() + "' (tail)", 2);
  }
  auto market = open_market(flags);
  if (!market) return fail("ledger", market.error());
  // Read from the leader unless told otherwise (or, without one, from any validator that answers).
  const auto answers = ask_validators(*market, 2s);
  const ValidatorAnswer* chosen = leader_answer(answers);
  for (const auto& a : answers) {
    if (chosen == nullptr && a.status) chosen = &a;
  }
  if (const auto named = flags["validator"].as<std::string>(); !named.empty()) {
    auto node = market->running(named);
    if (!node) return fail("ledger tail", node.error());
    chosen = nullptr;
    for (const auto& a : answers) {
      if (a.node == *node && a.status) chosen = &a;
    }
    if (chosen == nullptr) return fail("ledger tail", named + " does not answer");
  }
  if (chosen == nullptr) return fail("ledger tail", "no validator of this market answers");
  const runtime::NodeRecord* source = chosen->node;
  const lpb::ClusterStatus& cluster = *chosen->status;
  auto stub = lpb::Ledger::NewStub(market->channel(*source));
  const auto commit = cluster.commit_index();
  std::uint64_t from = flags["from"].as<std::uint64_t>();
  if (from == 0) {
    const auto count = flags["count"].as<std::uint64_t>();
    from = std::max<std::uint64_t>(
        {1, cluster.first_index(), commit >= count ? commit - count + 1 : 1});
  }
  const bool follow = flags.count("follow") != 0;
  std::cout << "ledger from " << source->id << ": commit index " << commit << ", "
            << cluster.trades_applied() << " trades settled; from index " << from << "\n";
  if (!follow && from > commit) return 0;
  grpc::ClientContext context;
  if (!follow) context.set_deadline(deadline_in(10s));
  lpb::StreamCommittedRequest request;
  request.set_from_index(from);
  auto reader = stub->StreamCommitted(&context, request);
  lpb::CommittedEntry entry;
  while (reader->Read(&entry)) {
    std::cout << "#" << entry.index() << " term " << entry.term() << ": ";
    if (entry.has_batch()) {
      const auto& batch = entry.batch();
      std::cout << batch.exchange_id() << " batch " << batch.sequence() << ", "
                << batch.trades_size() << " trades\n";
      for (const auto& t : batch.trades()) {
        const auto* symbol = find_symbol(market->scenario, batch.exchange_id(), t.symbol());
        std::cout << "    trade " << t.trade_id() << " " << t.symbol() << " " << t.quantity_lots()
                  << " @ " << price_text(symbol, t.price_ticks()) << ": " << t.buyer_account()
                  << " bought from " << t.seller_account() << "\n";
      }
    } else {
      std::cout << "(" << (entry.internal().empty() ? "no trades" : entry.internal()) << ")\n";
    }
    if (!follow && entry.index() >= commit) {
      context.TryCancel();
      break;
    }
  }
  const auto status = reader->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    return fail("ledger tail", status.error_message());
  }
  return 0;
}

}  // namespace mkt::marketctl
