#pragma once
// The Telemetry gRPC service every process serves (market.telemetry.v1): a stream of structured
// events, and a snapshot of the process's metrics.
//
// The owner publishes events on its strand; each gets the next sequence number and goes to the
// subscribers that asked for its kind. A subscriber that falls more than its queue behind loses
// events (the proto's contract: it sees a gap in seq) rather than slowing the process. Publishing
// with nobody subscribed costs a branch: check wants() before building an event.

#include <boost/asio/any_io_executor.hpp>
#include <list>
#include <memory>
#include <string>

#include "market/telemetry/v1/telemetry.grpc.pb.h"
#include "mkt/metrics/registry.h"
#include "mkt/runtime/stream.h"

namespace mkt::runtime {

class TelemetryService final : public market::telemetry::v1::Telemetry::CallbackService {
 public:
  // The owner's strand (or runtime::Serial): anything that runs its work one piece at a time.
  using Executor = boost::asio::any_io_executor;
  using Event = market::telemetry::v1::Event;

  // The registry must outlive the service; the service adds its gauge of open streams
  // (telemetry_streams) to it.
  TelemetryService(Executor strand, std::string node_id, metrics::Registry& registry,
                   StreamOptions options = {.queued_messages_max = 10'000, .drop_when_full = true});

  // On the strand: whether any subscriber takes events of this kind.
  bool wants(Event::KindCase kind) const;
  // On the strand: stamps the header and seq and sends the event to whoever wants its kind.
  void publish(Event event);
  // On the strand: ends every stream (the process is stopping).
  void close_streams();

  grpc::ServerWriteReactor<Event>* StreamEvents(
      grpc::CallbackServerContext* context,
      const market::telemetry::v1::StreamEventsRequest* request) override;
  grpc::ServerUnaryReactor* GetMetrics(grpc::CallbackServerContext* context,
                                       const market::telemetry::v1::GetMetricsRequest* request,
                                       market::telemetry::v1::MetricsSnapshot* response) override;

 private:
  struct Subscriber {
    std::shared_ptr<Stream<Event>> stream;
    std::vector<bool> kinds;  // by Event::KindCase
  };

  Executor strand_;
  std::string node_id_;
  const metrics::Registry& registry_;
  metrics::Gauge& streams_;
  StreamOptions options_;
  std::list<Subscriber> subscribers_;  // on the strand
  std::uint64_t seq_ = 0;
};

// The Event kind of a oneof field name ("order", "trade", ...); KIND_NOT_SET when unknown.
market::telemetry::v1::Event::KindCase telemetry_kind(const std::string& name);

}  // namespace mkt::runtime
