#pragma once
// Byte encodings shared by the on-disk formats (the exchange journal, the validators' write-ahead
// log and snapshots): fixed-width little-endian integers, length-prefixed strings, CRC-32C, and
// checksummed frames.
//
// A frame is [u32 payload bytes][u32 CRC-32C of the payload][payload]. Appending frames to a file
// means a crash can tear only the last one; FrameReader tells that (`torn`, which the owner cuts
// off) from damage before the end (`corrupt`, which is an error).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "mkt/core/hash.h"

namespace mkt::core {

std::uint32_t crc32c(std::string_view bytes);

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <class T>
  void integer(T value) {
    auto v = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      out_.push_back(static_cast<char>(v & 0xff));
      v >>= 8;
    }
  }
  void text(std::string_view s) {
    integer(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }

 private:
  std::string& out_;
};

// A hash of the fields a ByteWriter would write, without writing them: for hashing a record in
// the codec's field order on a hot path, with no buffer. An integer is mixed in whole (mix64), a
// string as its length and then FNV-1a over its bytes (core/hash.h).
class HashWriter {
 public:
  template <class T>
  void integer(T value) {
    h_ = mix64(h_ ^ static_cast<std::uint64_t>(value));
  }
  void text(std::string_view s) {
    integer(static_cast<std::uint32_t>(s.size()));
    h_ = fnv1a64(s, h_);
  }
  std::uint64_t hash() const { return h_; }

 private:
  std::uint64_t h_ = fnv1a64_offset;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <class T>
  bool integer(T& value) {
    if (in_.size() < sizeof(T)) return false;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      v |= std::uint64_t{static_cast<unsigned char>(in_[i])} << (8 * i);
    }
    value = static_cast<T>(v);
    in_.remove_prefix(sizeof(T));
    return true;
  }
  // An enum stored as one byte, below `count`.
  template <class E>
  bool enumeration(E& value, std::uint8_t count) {
    std::uint8_t raw = 0;
    if (!integer(raw) || raw >= count) return false;
    value = static_cast<E>(raw);
    return true;
  }
  bool text(std::string& s) {
    std::uint32_t n = 0;
    if (!integer(n) || in_.size() < n) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

inline constexpr std::size_t frame_header_bytes = 8;

// Appends a frame whose payload `write(ByteWriter&)` produces.
template <class Write>
void append_frame(std::string& out, Write write) {
  const std::size_t start = out.size();
  out.append(frame_header_bytes, '\0');
  ByteWriter payload_writer(out);
  write(payload_writer);
  const std::string_view payload(out.data() + start + frame_header_bytes,
                                 out.size() - start - frame_header_bytes);
  std::string header;
  ByteWriter h(header);
  h.integer(static_cast<std::uint32_t>(payload.size()));
  h.integer(crc32c(payload));
  std::memcpy(out.data() + start, header.data(), frame_header_bytes);
}

class FrameReader {
 public:
  enum class Status { ok, end, torn, corrupt };

  FrameReader(std::string_view bytes, std::size_t payload_bytes_max)
      : bytes_(bytes), payload_max_(payload_bytes_max) {}
  // The next frame's payload. After `torn` or `corrupt`, offset() is where the good frames end and
  // error() says what was wrong.
  Status next(std::string_view& payload);
  std::size_t offset() const { return offset_; }
  const std::string& error() const { return error_; }

 private:
  std::string_view bytes_;
  std::size_t payload_max_;
  std::size_t offset_ = 0;
  std::string error_;
};

}  // namespace mkt::core
