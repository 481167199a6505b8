#include "mkt/exchange/journal.h"

#include <fmt/format.h>

#include <array>
#include <cstring>

namespace mkt::exchange {

namespace {

enum class Type : std::uint8_t { submit = 1, cancel = 2, modify = 3, cut = 4, ack = 5 };

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
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

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
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

void encode_payload(const Command& command, Writer& w);

void encode_payload(const Record& record, Writer& w) {
  if (const auto* command = std::get_if<Command>(&record)) {
    encode_payload(*command, w);
  } else if (const auto* cut = std::get_if<SettlementCut>(&record)) {
    w.integer(static_cast<std::uint8_t>(Type::cut));
    w.integer(cut->sequence);
    w.integer(cut->last_trade_id);
  } else {
    w.integer(static_cast<std::uint8_t>(Type::ack));
    w.integer(std::get<SettlementAck>(record).sequence);
  }
}

void encode_payload(const Command& command, Writer& w) {
  if (const auto* s = std::get_if<SubmitCommand>(&command)) {
    w.integer(static_cast<std::uint8_t>(Type::submit));
    w.integer(s->account);
    w.text(s->client_order_id);
    w.integer(s->symbol);
    w.integer(static_cast<std::uint8_t>(s->order.side));
    w.integer(static_cast<std::uint8_t>(s->order.type));
    w.integer(static_cast<std::uint8_t>(s->order.tif));
    w.integer(s->order.price);
    w.integer(s->order.stop_price);
    w.integer(s->order.quantity);
    w.integer(static_cast<std::uint8_t>(s->order.post_only));
    w.integer(static_cast<std::uint8_t>(s->order.self_trade));
    w.integer(s->now_ns);
  } else if (const auto* c = std::get_if<CancelCommand>(&command)) {
    w.integer(static_cast<std::uint8_t>(Type::cancel));
    w.integer(c->account);
    w.integer(c->order_id);
    w.integer(c->now_ns);
  } else {
    const auto& m = std::get<ModifyCommand>(command);
    w.integer(static_cast<std::uint8_t>(Type::modify));
    w.integer(m.account);
    w.integer(m.order_id);
    w.integer(m.price);
    w.integer(m.quantity);
    w.integer(m.now_ns);
  }
}

bool decode_payload(std::string_view payload, Record& record) {
  Reader r(payload);
  std::uint8_t type = 0;
  if (!r.integer(type)) return false;
  bool ok = false;
  switch (static_cast<Type>(type)) {
    case Type::submit: {
      SubmitCommand s;
      std::uint8_t post_only = 0;
      ok = r.integer(s.account) && r.text(s.client_order_id) && r.integer(s.symbol) &&
           r.enumeration(s.order.side, 2) && r.enumeration(s.order.type, 4) &&
           r.enumeration(s.order.tif, 3) && r.integer(s.order.price) &&
           r.integer(s.order.stop_price) && r.integer(s.order.quantity) && r.integer(post_only) &&
           post_only <= 1 && r.enumeration(s.order.self_trade, 3) && r.integer(s.now_ns);
      s.order.post_only = post_only == 1;
      record = Command(std::move(s));
      break;
    }
    case Type::cancel: {
      CancelCommand c;
      ok = r.integer(c.account) && r.integer(c.order_id) && r.integer(c.now_ns);
      record = Command(c);
      break;
    }
    case Type::modify: {
      ModifyCommand m;
      ok = r.integer(m.account) && r.integer(m.order_id) && r.integer(m.price) &&
           r.integer(m.quantity) && r.integer(m.now_ns);
      record = Command(m);
      break;
    }
    case Type::cut: {
      SettlementCut cut;
      ok = r.integer(cut.sequence) && r.integer(cut.last_trade_id);
      record = cut;
      break;
    }
    case Type::ack: {
      SettlementAck ack;
      ok = r.integer(ack.sequence);
      record = ack;
      break;
    }
  }
  return ok && r.done();
}

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

void encode_record(const Record& record, std::string& out) {
  const std::size_t start = out.size();
  out.append(record_header_bytes, '\0');
  Writer w(out);
  encode_payload(record, w);
  const std::string_view payload(out.data() + start + record_header_bytes,
                                 out.size() - start - record_header_bytes);
  std::string header;
  Writer h(header);
  h.integer(static_cast<std::uint32_t>(payload.size()));
  h.integer(crc32c(payload));
  std::memcpy(out.data() + start, header.data(), record_header_bytes);
}

RecordReader::Status RecordReader::next(Record& record) {
  const std::string_view rest = bytes_.substr(offset_);
  if (rest.empty()) return Status::end;
  Reader header(rest);
  std::uint32_t length = 0;
  std::uint32_t crc = 0;
  const bool whole_header = header.integer(length) && header.integer(crc);
  // A record cut short, or a bad one that is the last thing in the file, is a torn write.
  auto bad = [&](std::string what) {
    const bool last = !whole_header || rest.size() <= record_header_bytes + length;
    error_ = fmt::format("record at byte {}: {}", offset_, what);
    return last ? Status::torn : Status::corrupt;
  };
  if (!whole_header) return bad("header cut short");
  if (length > record_payload_bytes_max) return bad(fmt::format("length {} too large", length));
  if (rest.size() < record_header_bytes + length) return bad("payload cut short");
  const std::string_view payload = rest.substr(record_header_bytes, length);
  if (crc32c(payload) != crc) return bad("checksum mismatch");
  if (!decode_payload(payload, record)) {
    error_ = fmt::format("record at byte {}: checksum good but payload malformed", offset_);
    return Status::corrupt;
  }
  offset_ += record_header_bytes + length;
  return Status::ok;
}

Outcome run_command(Venue& venue, const Command& command) {
  return std::visit(
      [&](const auto& c) -> Outcome {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, SubmitCommand>) {
          return venue.submit(c);
        } else if constexpr (std::is_same_v<T, CancelCommand>) {
          return venue.cancel(c);
        } else {
          return venue.modify(c);
        }
      },
      command);
}

}  // namespace mkt::exchange
