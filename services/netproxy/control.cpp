#include "control.h"

#include <google/protobuf/util/json_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "mkt/runtime/clock.h"
#include "mkt/runtime/run_folder.h"
#include "mkt/runtime/tls.h"
#include "mkt/runtime/unary.h"

namespace mkt::netproxy {

using scenario::DistributionKind;

namespace {

grpc::Status invalid(const std::string& message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, message};
}

}  // namespace

std::expected<netmodel::LinkParams, std::string> to_params(const pb::LinkParams& in) {
  netmodel::LinkParams out;
  auto& d = out.latency;
  const std::int64_t latency = in.latency_us(), jitter = in.jitter_us();
  if (latency < 0 || jitter < 0) return std::unexpected("latency and jitter must not be negative");
  switch (in.jitter_distribution()) {
    case pb::DISTRIBUTION_UNSPECIFIED:
      if (jitter != 0) {
        return std::unexpected("jitter_us needs a jitter_distribution (uniform, normal, ...)");
      }
      d.kind = DistributionKind::constant;
      d.value_us = latency;
      break;
    case pb::DISTRIBUTION_UNIFORM:
      d.kind = DistributionKind::uniform;
      d.min_us = std::max<std::int64_t>(0, latency - jitter);
      d.max_us = latency + jitter;
      break;
    case pb::DISTRIBUTION_NORMAL:
      d.kind = DistributionKind::normal;
      d.mean_us = latency;
      d.std_us = jitter;
      break;
    case pb::DISTRIBUTION_EXPONENTIAL:
      d.kind = DistributionKind::exponential;
      d.min_us = latency;
      d.scale_us = jitter;
      break;
    case pb::DISTRIBUTION_PARETO:
      d.kind = DistributionKind::pareto;
      d.min_us = latency;
      d.scale_us = jitter;
      d.shape_milli = in.pareto_shape_milli();
      break;
    default:
      return std::unexpected("unknown jitter_distribution");
  }
  if (in.bandwidth_bps() % 1000 != 0) {
    return std::unexpected("bandwidth_bps must be a whole number of kbit/s (a multiple of 1000)");
  }
  out.bandwidth_kbps = in.bandwidth_bps() / 1000;
  if (in.loss().has_gilbert_elliott()) {
    const auto& ge = in.loss().gilbert_elliott();
    out.loss = {ge.p_ppm(), ge.r_ppm(), ge.loss_good_ppm(), ge.loss_bad_ppm()};
  } else {
    out.loss.loss_good_ppm = in.loss().bernoulli_ppm();
  }
  out.queue_bytes = in.queue_bytes_max();
  out.rto_us = in.rto_us();
  if (auto why = netmodel::check(out); !why.empty()) return std::unexpected(why);
  return out;
}

pb::LinkParams to_proto(const netmodel::LinkParams& in) {
  pb::LinkParams out;
  const auto& d = in.latency;
  switch (d.kind) {
    case DistributionKind::constant:
      out.set_latency_us(d.value_us);
      break;
    case DistributionKind::uniform:
      out.set_latency_us((d.min_us + d.max_us) / 2);
      out.set_jitter_us((d.max_us - d.min_us) / 2);
      out.set_jitter_distribution(pb::DISTRIBUTION_UNIFORM);
      break;
    case DistributionKind::normal:
      out.set_latency_us(d.mean_us);
      out.set_jitter_us(d.std_us);
      out.set_jitter_distribution(pb::DISTRIBUTION_NORMAL);
      break;
    case DistributionKind::exponential:
      out.set_latency_us(d.min_us);
      out.set_jitter_us(d.scale_us);
      out.set_jitter_distribution(pb::DISTRIBUTION_EXPONENTIAL);
      break;
    case DistributionKind::pareto:
      out.set_latency_us(d.min_us);
      out.set_jitter_us(d.scale_us);
      out.set_jitter_distribution(pb::DISTRIBUTION_PARETO);
      out.set_pareto_shape_milli(static_cast<std::uint32_t>(d.shape_milli));
      break;
  }
  out.set_bandwidth_bps(in.bandwidth_kbps * 1000);
  if (in.loss.p_ppm > 0) {
    auto* ge = out.mutable_loss()->mutable_gilbert_elliott();
    ge->set_p_ppm(in.loss.p_ppm);
    ge->set_r_ppm(in.loss.r_ppm);
    ge->set_loss_good_ppm(in.loss.loss_good_ppm);
    ge->set_loss_bad_ppm(in.loss.loss_bad_ppm);
  } else if (in.loss.loss_good_ppm > 0) {
    out.mutable_loss()->set_bernoulli_ppm(in.loss.loss_good_ppm);
  }
  out.set_queue_bytes_max(in.queue_bytes);
  out.set_rto_us(in.rto_us);
  return out;
}

namespace {

// The proto's partition shapes and the model's, both ways.
constexpr std::pair<pb::PartitionShape, netmodel::PartitionShape> shapes[] = {
    {pb::PARTITION_SHAPE_UNSPECIFIED, netmodel::PartitionShape::groups},
    {pb::PARTITION_SHAPE_ISOLATE, netmodel::PartitionShape::isolate},
    {pb::PARTITION_SHAPE_HALVES, netmodel::PartitionShape::halves},
    {pb::PARTITION_SHAPE_BRIDGE, netmodel::PartitionShape::bridge},
    {pb::PARTITION_SHAPE_MAJORITIES_RING, netmodel::PartitionShape::majorities_ring},
    {pb::PARTITION_SHAPE_REGION, netmodel::PartitionShape::region}};

}  // namespace

std::expected<netmodel::PartitionSpec, std::string> to_spec(const pb::CreatePartitionRequest& in) {
  netmodel::PartitionSpec spec;
  const auto shape = std::find_if(std::begin(shapes), std::end(shapes),
                                  [&](const auto& pair) { return pair.first == in.shape(); });
  if (shape == std::end(shapes)) return std::unexpected("unknown partition shape");
  spec.shape = shape->second;
  switch (in.mode()) {
    case pb::PARTITION_MODE_UNSPECIFIED:
    case pb::PARTITION_MODE_BLACKHOLE:
      spec.mode = netmodel::CutMode::blackhole;
      break;
    case pb::PARTITION_MODE_RESET:
      spec.mode = netmodel::CutMode::reset;
      break;
    default:
      return std::unexpected("unknown partition mode");
  }
  spec.nodes.assign(in.nodes().begin(), in.nodes().end());
  for (const auto& group : in.groups())
    spec.groups.emplace_back(group.nodes().begin(), group.nodes().end());
  spec.region = in.region();
  spec.one_way = in.one_way();
  if (in.duration_ms() < 0) return std::unexpected("duration_ms must not be negative");
  spec.duration_ms = in.duration_ms();
  spec.seed = in.seed();
  return spec;
}

pb::CreatePartitionRequest to_request(const netmodel::PartitionSpec& spec) {
  pb::CreatePartitionRequest out;
  out.set_shape(std::find_if(std::begin(shapes), std::end(shapes), [&](const auto& pair) {
                  return pair.second == spec.shape;
                })->first);
  out.set_mode(spec.mode == netmodel::CutMode::reset ? pb::PARTITION_MODE_RESET
                                                     : pb::PARTITION_MODE_BLACKHOLE);
  for (const auto& n : spec.nodes) out.add_nodes(n);
  for (const auto& group : spec.groups) {
    auto* g = out.add_groups();
    for (const auto& n : group) g->add_nodes(n);
  }
  out.set_region(spec.region);
  out.set_one_way(spec.one_way);
  out.set_duration_ms(spec.duration_ms);
  out.set_seed(spec.seed);
  return out;
}

Control::Control(Strand strand, netmodel::LinkModel& model, Proxy& proxy,
                 runtime::TelemetryService* telemetry, const runtime::Clock& clock)
    : strand_(std::move(strand)),
      model_(model),
      proxy_(proxy),
      telemetry_(telemetry),
      clock_(clock) {}

pb::Link Control::link_of(netmodel::LinkId id) const {
  pb::Link link;
  link.set_source(model_.source(id));
  link.set_destination(model_.destination(id));
  for (auto& hop : model_.route(id)) link.add_route(std::move(hop));
  *link.mutable_params() = to_proto(model_.params(id));
  link.set_overridden(model_.overridden(id));
  link.set_partitioned(model_.cut(id).has_value());
  return link;
}

pb::Partition Control::partition_of(const netmodel::Partition& p) const {
  pb::Partition out;
  out.set_id(p.id);
  if (const auto it = requests_.find(p.id); it != requests_.end()) *out.mutable_spec() = it->second;
  for (netmodel::LinkId id : p.cut) {
    out.add_cut_links(model_.source(id) + ">" + model_.destination(id));
  }
  out.set_created_at_ns(p.created_ns);
  return out;
}

void Control::publish(const std::string& source, const std::string& destination,
                      const std::string& what) {
  if (telemetry_ == nullptr || !telemetry_->wants(runtime::TelemetryService::Event::kLinkChange)) {
    return;
  }
  runtime::TelemetryService::Event event;
  auto* change = event.mutable_link_change();
  change->set_source(source);
  change->set_destination(destination);
  change->set_what(what);
  if (const auto id = model_.find(source, destination)) {
    const auto params = model_.params(*id);
    change->set_latency_us(to_proto(params).latency_us());
    change->set_bandwidth_bps(params.bandwidth_kbps * 1000);
    change->set_loss_ppm(params.loss.loss_good_ppm);
  }
  telemetry_->publish(std::move(event));
}

void Control::after_cuts_changed(const std::vector<netmodel::LinkId>& links,
                                 const std::string& what) {
  proxy_.apply_cuts();
  for (netmodel::LinkId id : links) publish(model_.source(id), model_.destination(id), what);
}

void Control::after(std::int64_t ms, std::function<void()> then) {
  const auto it = timers_.emplace(timers_.end(), strand_);
  it->expires_after(std::chrono::milliseconds(ms));
  it->async_wait([this, it, then = std::move(then)](boost::system::error_code ec) {
    if (ec) return;  // stopped
    timers_.erase(it);
    then();
  });
}

void Control::heal_later(const std::string& id, std::int64_t after_ms) {
  after(after_ms, [this, id] { heal_by_itself(id); });
}

void Control::heal_by_itself(const std::string& id) {
  const auto freed = model_.heal(id);
  requests_.erase(id);
  if (!freed.empty()) spdlog::info("netproxy: partition {} healed by itself", id);
  after_cuts_changed(freed, "healed");
}

grpc::Status Control::list_links(const pb::ListLinksRequest&, pb::ListLinksResponse* response) {
  for (netmodel::LinkId id = 0; id < model_.link_count(); ++id) {
    *response->add_links() = link_of(id);
  }
  return grpc::Status::OK;
}

grpc::Status Control::set_link(const pb::SetLinkRequest& request, pb::Link* response) {
  const auto id = model_.find(request.source(), request.destination());
  if (!id) {
    return {grpc::StatusCode::NOT_FOUND,
            "no link from '" + request.source() + "' to '" + request.destination() + "'"};
  }
  const auto params = to_params(request.params());
  if (!params) return invalid(params.error());
  const auto back = model_.find(request.destination(), request.source());
  model_.set_params(*id, *params);
  if (request.both_directions() && back) model_.set_params(*back, *params);
  spdlog::info("netproxy: link {} -> {}{} set: {}", request.source(), request.destination(),
               request.both_directions() ? " (both ways)" : "",
               request.params().ShortDebugString());
  publish(request.source(), request.destination(), "set");
  if (request.both_directions()) publish(request.destination(), request.source(), "set");
  *response = link_of(*id);
  return grpc::Status::OK;
}

grpc::Status Control::reset_all(const pb::ResetAllRequest&, pb::ResetAllResponse*) {
  const auto freed = model_.reset();
  requests_.clear();
  spdlog::info("netproxy: every link back to the scenario's, every partition healed");
  after_cuts_changed(freed, "healed");
  publish("", "", "reset");
  return grpc::Status::OK;
}

grpc::Status Control::create_partition(const pb::CreatePartitionRequest& request,
                                       pb::Partition* response) {
  const auto spec = to_spec(request);
  if (!spec) return invalid(spec.error());
  const auto made = model_.partition(*spec, clock_.wall_ns());
  if (!made) return invalid(made.error());
  requests_[made->id] = request;
  spdlog::info("netproxy: partition {} cuts {} links ({})", made->id, made->cut.size(),
               request.ShortDebugString());
  after_cuts_changed(made->cut, "partitioned");
  if (spec->duration_ms > 0) heal_later(made->id, spec->duration_ms);
  *response = partition_of(*made);
  return grpc::Status::OK;
}

grpc::Status Control::heal_partition(const pb::HealPartitionRequest& request,
                                     pb::HealPartitionResponse* response) {
  const std::size_t before = model_.partitions().size();
  const auto freed = model_.heal(request.id());
  const std::size_t healed = before - model_.partitions().size();
  if (!request.id().empty() && healed == 0) {
    return {grpc::StatusCode::NOT_FOUND, "no partition '" + request.id() + "'"};
  }
  if (request.id().empty()) {
    requests_.clear();
  } else {
    requests_.erase(request.id());
  }
  spdlog::info("netproxy: healed {} partition(s)", healed);
  after_cuts_changed(freed, "healed");
  response->set_healed(static_cast<std::uint32_t>(healed));
  return grpc::Status::OK;
}

grpc::Status Control::list_partitions(const pb::ListPartitionsRequest&,
                                      pb::ListPartitionsResponse* response) {
  for (const auto& p : model_.partitions()) *response->add_partitions() = partition_of(p);
  return grpc::Status::OK;
}

grpc::Status Control::get_link_stats(const pb::GetLinkStatsRequest& request,
                                     pb::GetLinkStatsResponse* response) {
  response->set_at_ns(clock_.wall_ns());
  for (netmodel::LinkId id = 0; id < model_.link_count(); ++id) {
    const auto* c = proxy_.counters(id);
    if (c == nullptr) continue;
    if (!request.source().empty() && model_.source(id) != request.source()) continue;
    if (!request.destination().empty() && model_.destination(id) != request.destination()) {
      continue;
    }
    auto* s = response->add_links();
    s->set_source(model_.source(id));
    s->set_destination(model_.destination(id));
    s->set_bytes_forward(c->bytes->value());
    if (const auto back = model_.find(model_.destination(id), model_.source(id))) {
      if (const auto* b = proxy_.counters(*back)) s->set_bytes_backward(b->bytes->value());
    }
    s->set_connections_open(static_cast<std::uint32_t>(c->connections_open->value()));
    s->set_connections_total(c->connections_total->value());
    auto* h = s->mutable_applied_delay();
    for (std::int64_t bound : c->applied_delay->bounds()) h->add_bounds_us(bound / 1000);
    for (std::uint64_t n : c->applied_delay->counts()) h->add_counts(n);
    h->set_count(c->applied_delay->count());
    h->set_sum_us(c->applied_delay->sum() / 1000);
    s->set_segments_lost(c->segments_lost->value());
    s->set_queue_drops(c->queue_drops->value());
    s->set_partition_held_bytes(static_cast<std::uint64_t>(c->held_bytes->value()));
  }
  return grpc::Status::OK;
}

namespace {

runtime::HttpResponse json_error(int status, const std::string& code, const std::string& message) {
  std::string escaped;
  for (char ch : message) {
    if (ch == '"' || ch == '\\') escaped.push_back('\\');
    if (static_cast<unsigned char>(ch) >= 0x20) escaped.push_back(ch);
  }
  return {status, "application/json",
          "{\"code\":\"" + code + "\",\"message\":\"" + escaped + "\"}\n"};
}

// A call that failed, with the HTTP status of its gRPC code: 404, 401, 403, 412, or 400 for the
// rest (a bad argument).
runtime::HttpResponse json_error(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return json_error(404, "NOT_FOUND", status.error_message());
    case grpc::StatusCode::UNAUTHENTICATED:
      return json_error(401, "UNAUTHENTICATED", status.error_message());
    case grpc::StatusCode::PERMISSION_DENIED:
      return json_error(403, "PERMISSION_DENIED", status.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION:
      return json_error(412, "FAILED_PRECONDITION", status.error_message());
    default:
      return json_error(400, "INVALID_ARGUMENT", status.error_message());
  }
}

template <class Request, class Response>
runtime::HttpResponse json_call(Control& control, const std::string& body,
                                grpc::Status (Control::*method)(const Request&, Response*)) {
  Request request;
  if (!body.empty()) {
    const auto parsed = google::protobuf::util::JsonStringToMessage(body, &request);
    if (!parsed.ok()) {
      return json_error(400, "INVALID_ARGUMENT",
                        "the body is not a " + Request::descriptor()->full_name() + ": " +
                            std::string(parsed.message()));
    }
  }
  Response response;
  if (const grpc::Status status = (control.*method)(request, &response); !status.ok()) {
    return json_error(status);
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(response, &json, options);
  return {200, "application/json", json};
}

// The same for a call that changes the network: the operator's only.
template <class Request, class Response>
runtime::HttpResponse json_operator_call(Control& control, const runtime::HttpRequest& request,
                                         grpc::Status (Control::*method)(const Request&,
                                                                         Response*)) {
  if (const grpc::Status allowed = control.authorize(request.api_key); !allowed.ok()) {
    return json_error(allowed);
  }
  return json_call(control, request.body, method);
}

}  // namespace

std::optional<runtime::HttpResponse> Control::http(const runtime::HttpRequest& request) {
  const std::string& t = request.target;
  if (!t.starts_with("/v1/")) return std::nullopt;
  const std::string name = t.substr(0, t.find('?')).substr(4);  // the path after /v1/
  if (request.method == "GET") {
    if (name == "links") return json_call(*this, "", &Control::list_links);
    if (name == "partitions") return json_call(*this, "", &Control::list_partitions);
    if (name == "stats") return json_call(*this, "", &Control::get_link_stats);
    return std::nullopt;
  }
  if (request.method != "POST") {
    return json_error(405, "METHOD_NOT_ALLOWED", "use GET /v1/links or POST /v1/<Method>");
  }
  const std::string& body = request.body;
  if (name == "ListLinks") return json_call(*this, body, &Control::list_links);
  if (name == "SetLink") return json_operator_call(*this, request, &Control::set_link);
  if (name == "ResetAll") return json_operator_call(*this, request, &Control::reset_all);
  if (name == "CreatePartition") {
    return json_operator_call(*this, request, &Control::create_partition);
  }
  if (name == "HealPartition") return json_operator_call(*this, request, &Control::heal_partition);
  if (name == "ListPartitions") return json_call(*this, body, &Control::list_partitions);
  if (name == "GetLinkStats") return json_call(*this, body, &Control::get_link_stats);
  return std::nullopt;
}

void Control::schedule_disruptions(const std::vector<scenario::Disruption>& disruptions) {
  disruptions_ = &disruptions;
  timeline_.emplace(disruptions);
  timeline_start_ns_ = clock_.steady_ns();
  run_timeline();
}

// Carries out what the timeline says is due, then waits for its next step.
void Control::run_timeline() {
  const std::int64_t now_ms = (clock_.steady_ns() - timeline_start_ns_) / 1'000'000;
  for (const netmodel::TimelineStep& step : timeline_->due(now_ms)) carry_out(step);
  if (const auto next_ms = timeline_->next_ms())
    after(*next_ms - now_ms, [this] { run_timeline(); });
}

void Control::carry_out(const netmodel::TimelineStep& step) {
  const scenario::Disruption& d = (*disruptions_)[step.disruption];
  const bool start = step.kind == netmodel::TimelineStep::Kind::start;
  if (!step.partition) {
    model_.congest(step.disruption, d, start);
    spdlog::info("netproxy: disruption '{}' ({}) {}", d.name, scenario::to_string(d.type),
                 start ? fmt::format("starts for {} ms", d.duration_ms) : "ends");
    publish("", "", "disruption " + d.name + (start ? " started" : " ended"));
    return;
  }
  if (!start) {
    const auto made = disruption_partitions_.find(step.disruption);
    if (made == disruption_partitions_.end()) return;  // it could not start
    spdlog::info("netproxy: disruption '{}' ends", d.name);
    heal_by_itself(made->second);
    disruption_partitions_.erase(made);
    return;
  }
  const auto spec = netmodel::partition_of(d);
  const auto made = model_.partition(*spec, clock_.wall_ns());
  if (!made) {
    spdlog::error("netproxy: disruption '{}' cannot start: {}", d.name, made.error());
    return;
  }
  requests_[made->id] = to_request(*spec);
  disruption_partitions_[step.disruption] = made->id;
  spdlog::info("netproxy: disruption '{}' ({}) starts: partition {} cuts {} links for {} ms",
               d.name, scenario::to_string(d.type), made->id, made->cut.size(), spec->duration_ms);
  after_cuts_changed(made->cut, "partitioned");
}

void Control::stop() {
  for (auto& t : timers_) t.cancel();
}

grpc::Status Control::authorize(std::string_view key) const {
  if (accounts_.empty()) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "this proxy was started without --accounts: nobody may change its network"};
  }
  const auto account = accounts::account_of(accounts_, key);
  if (!account) {
    return {grpc::StatusCode::UNAUTHENTICATED,
            "changing the network needs the operator's key (x-api-key)"};
  }
  if (*account != runtime::operator_account) {
    return {grpc::StatusCode::PERMISSION_DENIED,
            *account + " is not the operator: only the operator changes the network"};
  }
  return grpc::Status::OK;
}

namespace {

// One call of the gRPC face: the Control method on the strand.
template <class Request, class Response>
grpc::ServerUnaryReactor* on_strand(const Strand& strand, Control& control,
                                    grpc::CallbackServerContext* context, const Request* request,
                                    Response* response,
                                    grpc::Status (Control::*method)(const Request&, Response*)) {
  return runtime::serve_on(strand, context, request, response,
                           [&control, method](const Request& r, runtime::Responder<Response> out) {
                             Response answer;
                             const grpc::Status status = (control.*method)(r, &answer);
                             out.finish(status, std::move(answer));
                           });
}

// The same for a call that changes the network: the operator's only.
template <class Request, class Response>
grpc::ServerUnaryReactor* operator_on_strand(const Strand& strand, Control& control,
                                             grpc::CallbackServerContext* context,
                                             const Request* request, Response* response,
                                             grpc::Status (Control::*method)(const Request&,
                                                                             Response*)) {
  std::string key = runtime::client_metadata(*context, runtime::api_key_metadata);
  if (const auto peer = runtime::peer_node_id(*context);
      peer && *peer != runtime::operator_account) {
    return runtime::answer_now(context, runtime::peer_refused(*peer, "the operator"));
  }
  return runtime::serve_on(
      strand, context, request, response,
      [&control, method, key = std::move(key)](const Request& r, runtime::Responder<Response> out) {
        Response answer;
        grpc::Status status = control.authorize(key);
        if (status.ok()) status = (control.*method)(r, &answer);
        out.finish(status, std::move(answer));
      });
}

}  // namespace

grpc::ServerUnaryReactor* NetControlService::ListLinks(grpc::CallbackServerContext* context,
                                                       const pb::ListLinksRequest* request,
                                                       pb::ListLinksResponse* response) {
  return on_strand(strand_, control_, context, request, response, &Control::list_links);
}

grpc::ServerUnaryReactor* NetControlService::SetLink(grpc::CallbackServerContext* context,
                                                     const pb::SetLinkRequest* request,
                                                     pb::Link* response) {
  return operator_on_strand(strand_, control_, context, request, response, &Control::set_link);
}

grpc::ServerUnaryReactor* NetControlService::ResetAll(grpc::CallbackServerContext* context,
                                                      const pb::ResetAllRequest* request,
                                                      pb::ResetAllResponse* response) {
  return operator_on_strand(strand_, control_, context, request, response, &Control::reset_all);
}

grpc::ServerUnaryReactor* NetControlService::CreatePartition(
    grpc::CallbackServerContext* context, const pb::CreatePartitionRequest* request,
    pb::Partition* response) {
  return operator_on_strand(strand_, control_, context, request, response,
                            &Control::create_partition);
}

grpc::ServerUnaryReactor* NetControlService::HealPartition(grpc::CallbackServerContext* context,
                                                           const pb::HealPartitionRequest* request,
                                                           pb::HealPartitionResponse* response) {
  return operator_on_strand(strand_, control_, context, request, response,
                            &Control::heal_partition);
}

grpc::ServerUnaryReactor* NetControlService::ListPartitions(
    grpc::CallbackServerContext* context, const pb::ListPartitionsRequest* request,
    pb::ListPartitionsResponse* response) {
  return on_strand(strand_, control_, context, request, response, &Control::list_partitions);
}

grpc::ServerUnaryReactor* NetControlService::GetLinkStats(grpc::CallbackServerContext* context,
                                                          const pb::GetLinkStatsRequest* request,
                                                          pb::GetLinkStatsResponse* response) {
  return on_strand(strand_, control_, context, request, response, &Control::get_link_stats);
}

}  // namespace mkt::netproxy
