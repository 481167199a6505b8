#pragma once
// monitord's HTTP API, JSON (and CSV for histories), read by the dashboard and by anyone:
//
//   GET /api/state                 every node, link, quote, the consensus, every agent, and the
//                                  active alerts, as of the last round; `unreachable`: the pairs
//                                  (from, to) where a validator's calls to a peer that is up fail
//   GET /api/alerts                active alerts, and the resolved ones kept (oldest first)
//   GET /api/events                the events kept from the telemetry streams (oldest first)
//   GET /api/history               the history series' names
//   GET /api/history?series=<name>[&format=csv]
//                                  one series' points: {"series", "points": [[t_ns, value], ...]}
//                                  or CSV with the header t_ns,value
//
// A name that is not a series gets 404; a format other than json or csv 400.

#include <optional>

#include "collector.h"
#include "mkt/runtime/http_server.h"

namespace mkt::monitord {

std::optional<runtime::HttpResponse> serve_api(const Collector& collector,
                                               const scenario::Scenario& scenario,
                                               const runtime::HttpRequest& request);

// What the page's WebSocket (/api/live) carries, as JSON text:
//   {"type": "hello", "state": <as /api/state>, "history": {<series>: [[t_ns, value], ...]},
//    "events": [...], "resolved": [...]}
//     when it opens, with the last `points` of every history and the last 50 events;
//   {"type": "round", "state": ..., "points": {<series>: [[t_ns, value], ...]}, "events": [...],
//    "resolved": [...]}
//     after every round: each series' points since the last push, the last 50 events and the
//     last 20 resolved alerts (the page keeps what it has not seen, by time, seq and id).
std::string hello_message(const Collector& collector, const scenario::Scenario& scenario,
                          std::size_t points);
// `since_ns`: the newest point the last push carried; moved on to this one's.
std::string round_message(const Collector& collector, const scenario::Scenario& scenario,
                          std::int64_t& since_ns);

}  // namespace mkt::monitord
