#include "api/metrics_handler.hpp"

#include "api/api_error.hpp"

namespace greenfleet::api {

ApiResponse metricsResponse(FleetMetrics* metrics, scheduler::FleetPoller* poller) {
  if (metrics == nullptr || poller == nullptr) {
    throw ApiError(ErrorKind::unavailable, "service_unavailable", "metrics are not available");
  }
  ApiResponse response;
  response.status = 200;
  response.content_type = kMetricsContentType;
  response.body = metrics->scrape(*poller);
  return response;
}

}  // namespace greenfleet::api
