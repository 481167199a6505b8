// Order entry from the wire: an order session's requests, as a client's bytes, converted from
// proto and run on a venue of two symbols and two accounts. Each request is refused with a
// reason or changes the venue; no input breaks the venue's invariants.

#include <cstddef>
#include <cstdint>

#include "convert.h"
#include "mkt/exchange/venue.h"

namespace {

mkt::exchange::VenueConfig config() {
  mkt::exchange::VenueConfig c;
  c.exchange_id = "ex-1";
  c.symbols = {{"STOCK_A", 1, 10'000}, {"STOCK_B", 1, 5'000}};
  c.accounts = {{"alice", 10'000'000}, {"bob", 5'000'000}};
  c.risk = {1'000, 5'000, 100};
  c.book.orders_max = 1'000;
  return c;
}

}  // namespace

// Protobuf logs every string field that is not UTF-8; a fuzzer makes millions of them.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  market::exchange::v1::SessionRequests requests;
  if (!requests.ParseFromArray(data, static_cast<int>(size))) return 0;
  mkt::exchange::Venue venue(config());
  std::int64_t now = 1'700'000'000'000'000'000;
  for (const auto& request : requests.requests()) {
    const auto account = static_cast<mkt::exchange::AccountId>(request.request_id() % 2);
    now += 1'000;
    std::expected<mkt::exchange::Command, mkt::exchanged::Refusal> command;
    if (request.has_submit()) {
      auto c = mkt::exchanged::to_submit(venue, account, request.submit(), now);
      command = c ? decltype(command)(*c) : std::unexpected(c.error());
    } else if (request.has_cancel()) {
      auto c = mkt::exchanged::to_cancel(account, request.cancel(), now);
      command = c ? decltype(command)(*c) : std::unexpected(c.error());
    } else if (request.has_modify()) {
      auto c = mkt::exchanged::to_modify(account, request.modify(), now);
      command = c ? decltype(command)(*c) : std::unexpected(c.error());
    } else {
      continue;
    }
    if (!command) {
      if (command.error().detail.empty()) __builtin_trap();  // a refusal always says why
      continue;
    }
    (void)mkt::exchange::run_command(venue, *command);
  }
  return 0;
}
