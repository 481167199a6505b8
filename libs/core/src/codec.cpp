#include "mkt/core/codec.h"

#include <array>

namespace mkt::core {

namespace {

constexpr std::array<std::uint32_t, 256> crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  static constexpr auto table = crc_table();
  std::uint32_t crc = 0xFFFFFFFFu;
  for (char ch : bytes) crc = table[(crc ^ static_cast<unsigned char>(ch)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

FrameReader::Status FrameReader::next(std::string_view& payload) {
  const std::string_view rest = bytes_.substr(offset_);
  if (rest.empty()) return Status::end;
  ByteReader header(rest);
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
  const bool whole_header = header.integer(length) && header.integer(crc);
  // A frame cut short, or a bad one that is the last thing in the file, is a torn write.
  auto bad = [&](const std::string& what) {
    const bool last = !whole_header || rest.size() <= frame_header_bytes + length;
    error_ = "record at byte " + std::to_string(offset_) + ": " + what;
    return last ? Status::torn : Status::corrupt;
  };
  if (!whole_header) return bad("header cut short");
  if (length > payload_max_) return bad("length " + std::to_string(length) + " too large");
  if (rest.size() < frame_header_bytes + length) return bad("payload cut short");
  payload = rest.substr(frame_header_bytes, length);
  if (crc32c(payload) != crc) return bad("checksum mismatch");
  offset_ += frame_header_bytes + length;
  return Status::ok;
}

}  // namespace mkt::core
