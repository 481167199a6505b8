#include "mkt/exchange/journal.h"

#include <fmt/format.h>

#include "mkt/core/codec.h"

namespace mkt::exchange {

namespace {

enum class Type : std::uint8_t { submit = 1, cancel = 2, modify = 3, cut = 4, ack = 5 };

using Writer = core::ByteWriter;
using Reader = core::ByteReader;

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

}  // namespace

void encode_record(const Record& record, std::string& out) {
  core::append_frame(out, [&](Writer& w) { encode_payload(record, w); });
}

RecordReader::Status RecordReader::next(Record& record) {
  std::string_view payload;
  switch (frames_.next(payload)) {
    case core::FrameReader::Status::ok:
      break;
    case core::FrameReader::Status::end:
      return Status::end;
    case core::FrameReader::Status::torn:
      return Status::torn;
    case core::FrameReader::Status::corrupt:
      return Status::corrupt;
  }
  if (!decode_payload(payload, record)) {
    error_ =
        fmt::format("record before byte {}: checksum good but payload malformed", frames_.offset());
    return Status::corrupt;
  }
  return Status::ok;
}

Outcome run_command(Venue& venue, const Command& command) {
  Outcome outcome = std::visit(
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
  if (changes_state(outcome)) venue.counted_command(command.index());
  return outcome;
}

}  // namespace mkt::exchange
