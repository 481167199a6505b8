// raft::Node::step with whatever a peer might send, on a 3-voter cluster: ticks, campaigns,
// proposals, compactions and arbitrary messages in any order, each Ready taken and advanced. A
// message is refused or stepped; no input may break an invariant (MKT_INVARIANT aborts).

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "mkt/raft/node.h"

namespace {

using namespace mkt::raft;

Entry entry(FuzzedDataProvider& in) {
  Entry e;
  e.term = in.ConsumeIntegralInRange<std::uint64_t>(0, 8);
  e.index = in.ConsumeIntegralInRange<std::uint64_t>(0, 24);
  e.type = in.ConsumeBool() ? EntryType::normal : EntryType::empty;
  e.data = in.ConsumeRandomLengthString(16);
  return e;
}

Message message(FuzzedDataProvider& in) {
  Message m;
  m.type = static_cast<MessageType>(in.ConsumeIntegralInRange<int>(0, 9));
  m.from = in.ConsumeIntegralInRange<NodeId>(0, 4);
  m.to = in.ConsumeIntegralInRange<int>(0, 7) == 0 ? in.ConsumeIntegralInRange<NodeId>(0, 4) : 1;
  m.term = in.ConsumeIntegralInRange<std::uint64_t>(0, 8);
  m.log_term = in.ConsumeIntegralInRange<std::uint64_t>(0, 8);
  m.index = in.ConsumeIntegralInRange<std::uint64_t>(0, 24);
  const int entries = in.ConsumeIntegralInRange<int>(0, 4);
  if (in.ConsumeBool()) {  // well formed: contiguous after `index`
    for (int i = 0; i < entries; ++i) {
      Entry e = entry(in);
      e.index = m.index + 1 + static_cast<std::uint64_t>(i);
      m.entries.push_back(std::move(e));
    }
  } else {
    for (int i = 0; i < entries; ++i) m.entries.push_back(entry(in));
  }
  m.commit = in.ConsumeIntegralInRange<std::uint64_t>(0, 24);
  m.commit_ns = in.ConsumeIntegral<std::int64_t>();
  m.reject = in.ConsumeBool();
  m.reject_hint = in.ConsumeIntegralInRange<std::uint64_t>(0, 24);
  m.transfer = in.ConsumeBool();
  if (m.type == MessageType::snapshot && in.ConsumeBool()) {
    Snapshot snapshot;
    snapshot.meta.index = in.ConsumeIntegralInRange<std::uint64_t>(0, 24);
    snapshot.meta.term = in.ConsumeIntegralInRange<std::uint64_t>(0, 8);
    snapshot.meta.voters = in.ConsumeBool() ? std::vector<NodeId>{1, 2, 3}
                                            : std::vector<NodeId>{in.ConsumeIntegral<NodeId>()};
    snapshot.data = in.ConsumeRandomLengthString(8);
    m.snapshot = std::make_shared<const Snapshot>(std::move(snapshot));
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  Config config;
  config.id = 1;
  config.voters = {1, 2, 3};
  config.election_ticks = 4;
  config.heartbeat_ticks = 1;
  config.inflight_max = 4;
  config.uncommitted_bytes_max = 256;
  Node node(config);
  while (in.remaining_bytes() > 0) {
    node.set_time(in.ConsumeIntegral<std::int64_t>());
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
        node.tick();
        break;
      case 1:
        node.campaign();
        break;
      case 2:
        (void)node.propose(in.ConsumeRandomLengthString(32));
        break;
      case 3:
        if (node.log().applied() > node.log().snapshot_index()) {
          (void)node.compact(node.log().applied(), "state");
        }
        break;
      case 4:
        (void)node.transfer_leadership(in.ConsumeIntegralInRange<NodeId>(0, 4));
        break;
      case 5:
        node.report_unreachable(in.ConsumeIntegralInRange<NodeId>(0, 4));
        break;
      default:
        (void)node.step(message(in));
        break;
    }
    while (node.has_ready()) {
      const Ready ready = node.ready();
      node.advance(ready);
    }
  }
  return 0;
}
