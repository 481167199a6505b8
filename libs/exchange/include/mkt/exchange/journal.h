#pragma once
// The journal's record format, I/O-free: the service appends encoded records to a file and replays
// them through the venue on start.
//
// A record is [u32 payload bytes][u32 CRC-32C of the payload][payload], little-endian. The payload
// is one command: a type byte, then its fields in fixed order (integers little-endian, strings as
// u32 length and bytes). A crash can tear only the last record; RecordReader reports that as
// `torn` (the caller truncates it away), and anything else that fails its checksum as `corrupt`.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "mkt/core/codec.h"
#include "mkt/exchange/venue.h"

namespace mkt::exchange {

using Command = std::variant<SubmitCommand, CancelCommand, ModifyCommand>;

// Settlement bookkeeping (see settlement.h), journalled so that a restart rebuilds the same
// batches: the trades up to `last_trade_id` not yet in a batch form batch `sequence`; batch
// `sequence` was acknowledged by the ledger.
struct SettlementCut {
  std::uint64_t sequence = 0;
  TradeId last_trade_id = 0;
};
struct SettlementAck {
  std::uint64_t sequence = 0;
};

// One journal record.
using Record = std::variant<Command, SettlementCut, SettlementAck>;

inline constexpr std::size_t record_payload_bytes_max = 4096;

// Appends one framed record (mkt/core/codec.h).
void encode_record(const Record& record, std::string& out);

class RecordReader {
 public:
  enum class Status { ok, end, torn, corrupt };

  explicit RecordReader(std::string_view bytes) : frames_(bytes, record_payload_bytes_max) {}
  // Reads the next record. After `torn` or `corrupt`, offset() is where the good records end.
  Status next(Record& record);
  std::size_t offset() const { return frames_.offset(); }
  const std::string& error() const { return error_.empty() ? frames_.error() : error_; }

 private:
  core::FrameReader frames_;
  std::string error_;
};

// The time a command carries.
inline std::int64_t time_of(const Command& command) {
  return std::visit([](const auto& c) { return c.now_ns; }, command);
}

// Runs one command through the venue (and counts it in its history when it changed it).
Outcome run_command(Venue& venue, const Command& command);

}  // namespace mkt::exchange
