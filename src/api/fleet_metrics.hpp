#pragma once
// FleetMetrics: greenfleet's Prometheus metrics (DESIGN §1, STYLE 23), kept in a prometheus-cpp
// core Registry it owns and serialised in the text format by our own /metrics handler — no second
// HTTP server. Counters and histograms are fed by hooks (recordUpstream from the poller's
// on_result, recordApiRequest from the admin server's on_request); fleet gauges (instances by
// state and attention, sessions, in flight) are computed from the scheduler at scrape time.
// Labels never carry an instance id or a token: 100k instances would be 100k series, and the
// per-instance view is the JSON API's job. Every known label value is exported from the start
// (0 when none) so series do not appear and disappear.
// Thread-safe: record* from any thread (prometheus-cpp metrics are atomic); scrape() serialises
// its own gauge refresh.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "scheduler/fleet_poller.hpp"
#include "scheduler/job.hpp"

namespace greenfleet::api {

class FleetMetrics {
 public:
  // `version` is the build_info label (GREENFLEET_VERSION in production).
  explicit FleetMetrics(const std::string& version);
  FleetMetrics(const FleetMetrics&) = delete;
  FleetMetrics& operator=(const FleetMetrics&) = delete;

  // One finished upstream call: request count by method and result, its duration, the
  // scheduler's lateness (startedAt - dueAt), and a backoff when the result causes one.
  void recordUpstream(const scheduler::Job& job, const scheduler::Outcome& outcome);
  // One answered admin API request; `route` is the matched pattern, "" when none matched.
  void recordApiRequest(const std::string& route, int status, double seconds);
  // Alert notices by result: delivered | failed (an attempt; it is retried) | dropped.
  void recordAlerts(std::string_view result, std::uint64_t count = 1);
  // Status updates the store's writer dropped because its queue was full (database failing).
  void recordStatusUpdatesDropped(std::uint64_t count);
  // Refreshes the scrape-time gauges from `poller`, then serialises the whole registry in the
  // Prometheus text exposition format 0.0.4.
  std::string scrape(scheduler::FleetPoller& poller);

  // The route label of a request that matched no route.
  static constexpr const char* kUnmatchedRoute = "unmatched";

 private:
  // The labelled series known up front (by method and result, by attention, by known state).
  void addUpstreamSeries();
  void addAttentionAndStateSeries();

  prometheus::Registry registry_;

  prometheus::Family<prometheus::Gauge>& instances_;
  prometheus::Family<prometheus::Gauge>& instances_by_attention_;
  prometheus::Gauge& needs_scan_;
  prometheus::Gauge& sessions_active_;
  prometheus::Gauge& in_flight_;

  prometheus::Family<prometheus::Counter>& upstream_requests_;
  prometheus::Family<prometheus::Histogram>& upstream_duration_;
  prometheus::Histogram& lateness_;
  prometheus::Family<prometheus::Counter>& backoffs_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Family<prometheus::Histogram>& api_duration_;
  prometheus::Family<prometheus::Counter>& alert_notices_;
  prometheus::Counter& status_updates_dropped_;

  // Resolved once so the hot path does no label hashing: [method][outcome kind], [method].
  std::vector<std::vector<prometheus::Counter*>> upstream_by_result_;
  std::vector<prometheus::Histogram*> upstream_duration_by_method_;
  std::vector<prometheus::Counter*> backoffs_by_method_;
  std::vector<prometheus::Gauge*> attention_gauges_;  // by fleet::Attention

  std::mutex scrape_mutex_;  // guards the gauge refresh and the map below
  std::map<std::string, prometheus::Gauge*, std::less<>> state_gauges_;  // by state name
};

}  // namespace greenfleet::api
