#include "ledger_reporter.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "convert.h"
#include "mkt/runtime/channel.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/wire/exchange.h"

namespace mkt::exchanged {

namespace lpb = market::ledger::v1;

namespace {

std::string trailing(const grpc::ClientContext& context, const std::string& key) {
  const auto& metadata = context.GetServerTrailingMetadata();
  const auto it = metadata.find(key);
  return it == metadata.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

}  // namespace

LedgerReporter::LedgerReporter(ReporterOptions options, const exchange::Venue& venue,
                               exchange::Settlement& settlement, JournalFile& journal,
                               runtime::Serial strand, metrics::Registry& registry)
    : options_(std::move(options)),
      venue_(venue),
      settlement_(settlement),
      journal_(journal),
      strand_(std::move(strand)),
      backoff_(options_.retry_min),
      retry_timer_(strand_),
      lag_timer_(strand_) {
  metrics_.unsettled_trades = &registry.gauge("exchange_settlement_unsettled_trades",
                                              "Trades not yet acknowledged by the ledger.");
  metrics_.lag_ms =
      &registry.gauge("exchange_settlement_lag_seconds",
                      "Age of the oldest trade not yet acknowledged by the ledger.", {}, 1e3);
  metrics_.acknowledged_sequence = &registry.gauge("exchange_settlement_acknowledged_sequence",
                                                   "Last trade batch the ledger acknowledged.");
  metrics_.committed =
      &registry.counter("exchange_settlement_batches_total",
                        "Trade batches the ledger acknowledged.", {{"outcome", "committed"}});
  metrics_.duplicates =
      &registry.counter("exchange_settlement_batches_total",
                        "Trade batches the ledger acknowledged.", {{"outcome", "duplicate"}});
  metrics_.failures = &registry.counter("exchange_settlement_failures_total",
                                        "Trade batch calls that failed and will be retried.");
  if (!options_.ledger_addresses.empty()) target_ = options_.ledger_addresses.front();
  update_lag();
}

LedgerReporter::~LedgerReporter() = default;

lpb::Ledger::Stub& LedgerReporter::stub(const std::string& address) {
  auto& slot = stubs_[address];
  if (!slot) {
    slot = lpb::Ledger::NewStub(runtime::make_channel(
        address, {.node_id = options_.node_id,
                  .proxy_address = options_.proxy_address,
                  .max_receive_message_bytes = 4 << 20,
                  .reconnect_backoff_max_ms = static_cast<int>(options_.retry_max.count()),
                  .tls = options_.tls,
                  .peer = runtime::role_name(scenario::to_string(scenario::Role::validator))}));
  }
  return *slot;
}

void LedgerReporter::update_lag() {
  const std::int64_t oldest = settlement_.oldest_unsettled_ns();
  metrics_.unsettled_trades->set(static_cast<std::int64_t>(settlement_.unsettled_trades()));
  metrics_.lag_ms->set(oldest == 0 ? 0 : (runtime::wall_clock_ns() - oldest) / 1'000'000);
  metrics_.acknowledged_sequence->set(
      static_cast<std::int64_t>(settlement_.acknowledged_sequence()));
  if (stopped_) return;
  lag_timer_.expires_after(std::chrono::milliseconds(500));
  lag_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) update_lag();
  });
}

void LedgerReporter::kick() {
  if (busy_ || stopped_ || target_.empty() ||
      retry_timer_.expiry() > std::chrono::steady_clock::now()) {
    return;
  }
  if (const exchange::Batch* batch = settlement_.next_batch()) {
    send(*batch);
    return;
  }
  const auto cut = settlement_.propose_cut();
  if (!cut) return;
  busy_ = true;
  settlement_.apply(*cut);
  // Sent once the cut (and so every trade in it) is on disk: a batch the ledger has seen is always
  // rebuilt the same after a restart.
  journal_.append(*cut, [this] {
    busy_ = false;
    kick();
  });
}

void LedgerReporter::send(const exchange::Batch& batch) {
  busy_ = true;
  lpb::TradeBatch request;
  runtime::stamp(*request.mutable_header(), venue_.config().exchange_id);
  request.set_exchange_id(venue_.config().exchange_id);
  request.set_sequence(batch.sequence);
  for (const exchange::SettledTrade& t : batch.trades) {
    lpb::TradeReport& report = *request.add_trades();
    report.set_trade_id(t.trade_id);
    report.set_symbol(venue_.config().symbols[t.symbol].name);
    report.set_price_ticks(t.price);
    report.set_quantity_lots(t.quantity);
    report.set_notional(t.notional);
    report.set_buyer_account(venue_.account(t.buyer).id);
    report.set_seller_account(venue_.account(t.seller).id);
    report.set_buy_order_id(t.buy_order);
    report.set_sell_order_id(t.sell_order);
    report.set_aggressor_side(wire::to_proto(t.aggressor));
    report.set_executed_at_ns(t.executed_at_ns);
  }
  auto& target = stub(target_);
  const std::uint64_t sequence = batch.sequence;
  call_ = runtime::async_unary<lpb::SubmitTradeBatchResponse>(
      strand_,
      {.timeout = options_.call_timeout,
       .metadata = {{runtime::ledger_key_metadata, options_.ledger_key}}},
      [&](grpc::ClientContext* context, lpb::SubmitTradeBatchResponse* response, auto done) {
        target.async()->SubmitTradeBatch(context, &request, response, std::move(done));
      },
      [this, sequence](grpc::Status status, lpb::SubmitTradeBatchResponse response) {
        on_answer(sequence, status, response);
      });
}

void LedgerReporter::on_answer(std::uint64_t sequence, const grpc::Status& status,
                               const lpb::SubmitTradeBatchResponse& response) {
  const grpc::ClientContext& context = call_->context();
  if (status.ok()) {
    (response.outcome() == lpb::SubmitTradeBatchResponse::OUTCOME_DUPLICATE ? metrics_.duplicates
                                                                            : metrics_.committed)
        ->add();
    acknowledge(sequence);
    return;
  }
  metrics_.failures->add();
  if (stopped_) return;
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
    const std::string expected_text = trailing(context, "x-expected-sequence");
    std::uint64_t expected = 0;
    std::from_chars(expected_text.data(), expected_text.data() + expected_text.size(), expected);
    if (expected > sequence) {
      // The ledger has this batch already: the acknowledgement was lost in a crash.
      acknowledge(sequence);
      return;
    }
    if (expected != 0) {
      spdlog::critical(
          "ledger expects batch {} but batch {} is the first not acknowledged; "
          "settlement stops (the ledger lost acknowledged batches)",
          expected, sequence);
      stopped_ = true;
      busy_ = false;
      return;
    }
    const std::string leader = trailing(context, "x-leader-address");
    busy_ = false;
    if (!leader.empty() && leader != suspect_) {
      spdlog::info("ledger: batch {} goes to the leader at {}", sequence, leader);
      go_to(leader);
      return;
    }
    // No leader known (an election is on), or one that just failed: ask them all.
    find_leader();
    return;
  }
  const auto code = status.error_code();
  const bool refused = code == grpc::StatusCode::INVALID_ARGUMENT ||
                       code == grpc::StatusCode::PERMISSION_DENIED ||
                       code == grpc::StatusCode::UNAUTHENTICATED;
  busy_ = false;
  if (refused) {
    // Settlement waits here until the cause (a scenario or a key that the validators do not
    // share with this exchange) is mended and the validators restarted.
    spdlog::error("ledger at {}: batch {} refused ({}: {}); retrying in {} ms", target_, sequence,
                  static_cast<int>(code), status.error_message(), options_.refused_retry.count());
    retry_later(options_.refused_retry);
    return;
  }
  spdlog::warn("ledger at {}: batch {} failed ({}: {}); asking the validators for the leader",
               target_, sequence, static_cast<int>(code), status.error_message());
  suspect_ = target_;
  find_leader();
}

void LedgerReporter::acknowledge(std::uint64_t sequence) {
  journal_.append(exchange::SettlementAck{sequence}, [this, sequence] {
    settlement_.apply(exchange::SettlementAck{sequence});
    busy_ = false;
    backoff_ = options_.retry_min;
    suspect_.clear();
    update_lag();
    kick();
  });
}

void LedgerReporter::retry_later(std::chrono::milliseconds delay) {
  retry_timer_.expires_after(delay);
  backoff_ = std::min(backoff_ * 2, options_.retry_max);
  retry_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) kick();
  });
}

void LedgerReporter::go_to(const std::string& address) {
  target_ = address;
  retry_timer_.expires_at(std::chrono::steady_clock::time_point::min());  // and cancels a wait
  kick();
}

// Every validator at once; the first answer that decides wins: a leader other than the suspect,
// or the suspect saying it leads (the failure passed).
void LedgerReporter::find_leader() {
  const auto& all = options_.ledger_addresses;
  if (stopped_ || all.empty()) return;
  busy_ = true;
  search_.open = true;
  ++search_.round;
  search_.calls.assign(all.size(), nullptr);
  search_.answered.assign(all.size(), false);
  search_.named.clear();
  const lpb::GetClusterStatusRequest request;
  for (std::size_t i = 0; i < all.size(); ++i) {
    auto& target = stub(all[i]);
    search_.calls[i] = runtime::async_unary<lpb::ClusterStatus>(
        strand_, {.timeout = options_.search_timeout, .metadata = {}},
        [&](grpc::ClientContext* context, lpb::ClusterStatus* response, auto done) {
          target.async()->GetClusterStatus(context, &request, response, std::move(done));
        },
        [this, round = search_.round, i](grpc::Status status, lpb::ClusterStatus answer) {
          on_status(round, i, status, answer);
        });
  }
}

void LedgerReporter::on_status(std::uint64_t round, std::size_t i, const grpc::Status& status,
                               const lpb::ClusterStatus& answer) {
  if (round != search_.round || !search_.open || stopped_) return;  // decided already
  const std::string& asked = options_.ledger_addresses[i];
  const std::string& leader = answer.leader_address();
  if (status.ok() && !leader.empty() && (leader != suspect_ || asked == suspect_)) {
    spdlog::info("ledger: {} names {} as the leader (term {})", asked, leader, answer.term());
    end_search();
    go_to(leader);
    return;
  }
  if (status.ok() && !leader.empty()) search_.named = leader;
  search_.answered[i] = true;
  if (!std::ranges::all_of(search_.answered, std::identity{})) return;
  // Everyone answered and nobody decided: after the backoff, send again to the validator named
  // (it may be alive after all) or the next one, and search again if that fails.
  end_search();
  const auto& all = options_.ledger_addresses;
  if (!search_.named.empty()) {
    target_ = search_.named;
  } else {
    const auto at = std::ranges::find(all, target_);
    target_ = (at == all.end() || at + 1 == all.end()) ? all.front() : *(at + 1);
  }
  retry_later(backoff_);
}

void LedgerReporter::end_search() {
  search_.open = false;
  busy_ = false;
  for (auto& call : search_.calls) {
    if (call) call->cancel();
  }
}

void LedgerReporter::stop() {
  stopped_ = true;
  retry_timer_.cancel();
  lag_timer_.cancel();
  if (call_) call_->cancel();
  end_search();
}

}  // namespace mkt::exchanged
