#pragma once
// GET /metrics: the Prometheus text exposition (format 0.0.4) of FleetMetrics, refreshed from
// the running scheduler at each scrape. Served by the admin server itself (no second HTTP server);
// open by default, or behind a read key when metrics.require_key is set (the route decides).
// Thread-safe.

#include "api/api_request.hpp"
#include "api/fleet_metrics.hpp"
#include "scheduler/fleet_poller.hpp"

namespace greenfleet::api {

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// 503 service_unavailable when metrics or the scheduler are not wired (yet).
ApiResponse metricsResponse(FleetMetrics* metrics, scheduler::FleetPoller* poller);

}  // namespace greenfleet::api
