#include "mkt/runtime/telemetry.h"

#include "mkt/runtime/clock.h"
#include "mkt/runtime/unary.h"

namespace mkt::runtime {

namespace tpb = market::telemetry::v1;

namespace {

constexpr int kinds_max = 16;  // above every Event::KindCase

}  // namespace

tpb::Event::KindCase telemetry_kind(const std::string& name) {
  const auto* field = tpb::Event::descriptor()->FindFieldByName(name);
  if (field == nullptr || field->containing_oneof() == nullptr) return tpb::Event::KIND_NOT_SET;
  return static_cast<tpb::Event::KindCase>(field->number());
}

TelemetryService::TelemetryService(Executor strand, std::string node_id,
                                   metrics::Registry& registry, StreamOptions options)
    : strand_(std::move(strand)),
      node_id_(std::move(node_id)),
      registry_(registry),
      streams_(registry.gauge("telemetry_streams", "Open telemetry event streams.")),
      options_(options) {}

bool TelemetryService::wants(Event::KindCase kind) const {
  for (const Subscriber& s : subscribers_) {
    if (s.kinds[static_cast<std::size_t>(kind)]) return true;
  }
  return false;
}

void TelemetryService::publish(Event event) {
  stamp(*event.mutable_header(), node_id_);
  event.set_seq(++seq_);
  const auto kind = static_cast<std::size_t>(event.kind_case());
  std::shared_ptr<const Event> shared;
  for (const Subscriber& s : subscribers_) {
    if (!s.kinds[kind]) continue;
    if (!shared) shared = std::make_shared<const Event>(std::move(event));
    s.stream->send(shared);
  }
}

void TelemetryService::close_streams() {
  for (const Subscriber& s : subscribers_) {
    s.stream->finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the process is stopping"));
  }
}

grpc::ServerWriteReactor<tpb::Event>* TelemetryService::StreamEvents(
    grpc::CallbackServerContext*, const tpb::StreamEventsRequest* request) {
  std::vector<bool> kinds(kinds_max, request->kinds().empty());
  std::string unknown;
  for (const std::string& name : request->kinds()) {
    const auto kind = telemetry_kind(name);
    if (kind == tpb::Event::KIND_NOT_SET) {
      unknown = name;
      break;
    }
    kinds[static_cast<std::size_t>(kind)] = true;
  }
  auto where = std::make_shared<std::list<Subscriber>::iterator>(subscribers_.end());
  return serve_stream_on<tpb::Event>(
      strand_, options_,
      [this, where, kinds = std::move(kinds), unknown](std::shared_ptr<Stream<tpb::Event>> stream) {
        if (!unknown.empty()) {
          stream->finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                      "unknown event kind '" + unknown +
                                          "' (order, trade, leader_change, link_change, alert, "
                                          "node_state, signal, strategy_switch)"));
          return;
        }
        *where = subscribers_.insert(subscribers_.end(), Subscriber{std::move(stream), kinds});
        streams_.set(static_cast<std::int64_t>(subscribers_.size()));
      },
      [this, where] {
        if (*where != subscribers_.end()) subscribers_.erase(*where);
        streams_.set(static_cast<std::int64_t>(subscribers_.size()));
      });
}

grpc::ServerUnaryReactor* TelemetryService::GetMetrics(grpc::CallbackServerContext* context,
                                                       const tpb::GetMetricsRequest*,
                                                       tpb::MetricsSnapshot* response) {
  // The registry is thread-safe: answered on gRPC's thread.
  stamp(*response->mutable_header(), node_id_);
  for (const metrics::Sample& sample : registry_.samples()) {
    tpb::Metric& metric = *response->add_metrics();
    metric.set_name(sample.name);
    for (const auto& [key, value] : sample.labels) (*metric.mutable_labels())[key] = value;
    switch (sample.type) {
      case metrics::Type::counter:
        metric.set_counter(sample.value);
        break;
      case metrics::Type::gauge:
        metric.set_gauge(static_cast<double>(sample.value) / sample.per_base);
        break;
      case metrics::Type::histogram: {
        auto& h = *metric.mutable_histogram();
        for (double b : sample.bounds) h.add_bounds(b);
        for (std::uint64_t c : sample.buckets) h.add_counts(c);
        h.set_count(sample.count);
        h.set_sum(sample.sum);
        break;
      }
    }
  }
  return answer_now(context, grpc::Status::OK);
}

}  // namespace mkt::runtime
