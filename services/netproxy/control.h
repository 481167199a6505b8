#pragma once
// The control plane of netproxy: the NetControl API (proto/market/netcontrol/v1), over gRPC and
// as JSON over HTTP, and the scenario's timed disruptions.
//
// JSON over HTTP takes the same messages in the proto3 JSON mapping:
//   POST /v1/<Method>   the request as the body ({} or nothing for none), e.g. curl -d
//       '{"source":"a","destination":"b","params":{"latency_us":50000}}' http://.../v1/SetLink
//   GET /v1/links, /v1/partitions, /v1/stats   ListLinks, ListPartitions, GetLinkStats
// and answers with the response as JSON, or {"code": ..., "message": ...} with 400 (a bad
// argument), 404 (nothing by that name) or 405.
//
// Only the operator changes the network (SetLink, ResetAll, CreatePartition, HealPartition): the
// call carries the operator's key from the accounts file (--accounts), as gRPC metadata or the
// HTTP header x-api-key; without it UNAUTHENTICATED (401), with another account's
// PERMISSION_DENIED (403), and a proxy given no accounts lets nobody (FAILED_PRECONDITION, 412).
// Reading (the links, partitions, stats) is open to all: the monitor reads them.
//
// Everything runs on the proxy's io thread (the strand the gRPC service posts to). A change is
// logged and published as a LinkChange telemetry event.

#include <grpcpp/grpcpp.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <list>
#include <memory>
#include <optional>

#include "market/netcontrol/v1/netcontrol.grpc.pb.h"
#include "mkt/accounts/accounts.h"
#include "mkt/netmodel/links.h"
#include "mkt/netmodel/timeline.h"
#include "mkt/runtime/clock.h"
#include "mkt/runtime/http_server.h"
#include "mkt/runtime/process.h"
#include "mkt/runtime/telemetry.h"
#include "proxy.h"

namespace mkt::netproxy {

namespace pb = market::netcontrol::v1;
using runtime::Strand;

// proto <-> model, with what is wrong with a request.
std::expected<netmodel::LinkParams, std::string> to_params(const pb::LinkParams& in);
pb::LinkParams to_proto(const netmodel::LinkParams& in);
std::expected<netmodel::PartitionSpec, std::string> to_spec(const pb::CreatePartitionRequest& in);
pb::CreatePartitionRequest to_request(const netmodel::PartitionSpec& spec);

class Control {
 public:
  // Everything given must outlive the control; `telemetry` may be null.
  Control(Strand strand, netmodel::LinkModel& model, Proxy& proxy,
          runtime::TelemetryService* telemetry,
          const runtime::Clock& clock = runtime::system_clock());

  grpc::Status list_links(const pb::ListLinksRequest& request, pb::ListLinksResponse* response);
  grpc::Status set_link(const pb::SetLinkRequest& request, pb::Link* response);
  grpc::Status reset_all(const pb::ResetAllRequest& request, pb::ResetAllResponse* response);
  grpc::Status create_partition(const pb::CreatePartitionRequest& request, pb::Partition* response);
  grpc::Status heal_partition(const pb::HealPartitionRequest& request,
                              pb::HealPartitionResponse* response);
  grpc::Status list_partitions(const pb::ListPartitionsRequest& request,
                               pb::ListPartitionsResponse* response);
  grpc::Status get_link_stats(const pb::GetLinkStatsRequest& request,
                              pb::GetLinkStatsResponse* response);

  // The JSON routes, for runtime::HttpServer.
  std::optional<runtime::HttpResponse> http(const runtime::HttpRequest& request);

  // Who may change the network: the operator of these accounts, by its key.
  void set_accounts(std::vector<accounts::AccountKey> accounts) { accounts_ = std::move(accounts); }
  // OK when `key` is the operator's; else why not.
  grpc::Status authorize(std::string_view key) const;

  // Starts the scenario's disruptions, timed from now; they must outlive the control.
  void schedule_disruptions(const std::vector<scenario::Disruption>& disruptions);
  // Cancels every timer (disruptions, partitions that heal by themselves).
  void stop();

 private:
  pb::Link link_of(netmodel::LinkId id) const;
  pb::Partition partition_of(const netmodel::Partition& p) const;
  void publish(const std::string& source, const std::string& destination, const std::string& what);
  void after_cuts_changed(const std::vector<netmodel::LinkId>& links, const std::string& what);
  void heal_later(const std::string& id, std::int64_t after_ms);
  void heal_by_itself(const std::string& id);
  // Runs `then` on the strand in `ms` milliseconds, unless stopped first.
  void after(std::int64_t ms, std::function<void()> then);
  void run_timeline();
  void carry_out(const netmodel::TimelineStep& step);

  Strand strand_;
  netmodel::LinkModel& model_;
  Proxy& proxy_;
  runtime::TelemetryService* telemetry_;
  std::list<boost::asio::steady_timer> timers_;
  std::map<std::string, pb::CreatePartitionRequest> requests_;  // as asked, by partition id
  // The scenario's disruptions, once scheduled: the timeline drives them, one timer at a time.
  const std::vector<scenario::Disruption>* disruptions_ = nullptr;
  std::optional<netmodel::Timeline> timeline_;
  const runtime::Clock& clock_;
  std::int64_t timeline_start_ns_ = 0;
  std::map<std::size_t, std::string> disruption_partitions_;  // disruption -> its partition's id
  std::vector<accounts::AccountKey> accounts_;
};

// The gRPC face of Control: each call runs on the strand.
class NetControlService final : public pb::NetControl::CallbackService {
 public:
  NetControlService(Strand strand, Control& control)
      : strand_(std::move(strand)), control_(control) {}

  grpc::ServerUnaryReactor* ListLinks(grpc::CallbackServerContext* context,
                                      const pb::ListLinksRequest* request,
                                      pb::ListLinksResponse* response) override;
  grpc::ServerUnaryReactor* SetLink(grpc::CallbackServerContext* context,
                                    const pb::SetLinkRequest* request, pb::Link* response) override;
  grpc::ServerUnaryReactor* ResetAll(grpc::CallbackServerContext* context,
                                     const pb::ResetAllRequest* request,
                                     pb::ResetAllResponse* response) override;
  grpc::ServerUnaryReactor* CreatePartition(grpc::CallbackServerContext* context,
                                            const pb::CreatePartitionRequest* request,
                                            pb::Partition* response) override;
  grpc::ServerUnaryReactor* HealPartition(grpc::CallbackServerContext* context,
                                          const pb::HealPartitionRequest* request,
                                          pb::HealPartitionResponse* response) override;
  grpc::ServerUnaryReactor* ListPartitions(grpc::CallbackServerContext* context,
                                           const pb::ListPartitionsRequest* request,
                                           pb::ListPartitionsResponse* response) override;
  grpc::ServerUnaryReactor* GetLinkStats(grpc::CallbackServerContext* context,
                                         const pb::GetLinkStatsRequest* request,
                                         pb::GetLinkStatsResponse* response) override;

 private:
  Strand strand_;
  Control& control_;
};

}  // namespace mkt::netproxy
