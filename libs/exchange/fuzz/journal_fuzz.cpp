// The exchange journal's reader, on a damaged or hostile file: every record it reads is one the
// writer can write again byte for byte, and it stops at the first bad frame with a reason.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mkt/exchange/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mkt::exchange::RecordReader reader(bytes);
  mkt::exchange::Record record;
  for (;;) {
    const std::size_t before = reader.offset();
    const auto status = reader.next(record);
    if (status == mkt::exchange::RecordReader::Status::end) break;
    if (status != mkt::exchange::RecordReader::Status::ok) {
      if (reader.offset() > size) __builtin_trap();
      break;
    }
    std::string again;
    mkt::exchange::encode_record(record, again);
    mkt::exchange::RecordReader reread(again);
    mkt::exchange::Record copy;
    if (reread.next(copy) != mkt::exchange::RecordReader::Status::ok) __builtin_trap();
    std::string twice;
    mkt::exchange::encode_record(copy, twice);
    if (twice != again || reader.offset() <= before) __builtin_trap();
  }
  return 0;
}
