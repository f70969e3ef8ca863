#include "api/fleet_metrics.hpp"

#include <algorithm>
#include <chrono>

#include <prometheus/text_serializer.h>

#include "fleet/instance_state.hpp"

namespace greenfleet::api {

namespace {

// Upstream calls take from a few ms (emulator, keep-alive) to the 30-60 s of a slow qr (#559).
const prometheus::Histogram::BucketBoundaries kUpstreamBuckets{
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
// Lateness is ~0 when healthy; seconds to minutes mean the fleet outgrew the limits or workers.
const prometheus::Histogram::BucketBoundaries kLatenessBuckets{
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
const prometheus::Histogram::BucketBoundaries kApiBuckets{
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// States upstream may invent (kept verbatim, DESIGN §4) get their own series up to this many;
// beyond it they are folded into "other" so a misbehaving upstream cannot grow the exposition.
constexpr std::size_t kMaxStateSeries = 32;
constexpr const char* kOtherState = "other";

constexpr fleet::StateKind kKnownStates[] = {
    fleet::StateKind::unknown,    fleet::StateKind::initializing, fleet::StateKind::notAuthorized,
    fleet::StateKind::authorized, fleet::StateKind::blocked,      fleet::StateKind::starting,
    fleet::StateKind::sleepMode,  fleet::StateKind::yellowCard,   fleet::StateKind::suspended,
};

double seconds(base::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string label(std::string_view value) { return std::string(value); }

// A metric family registered under `name` with its help text.
template <typename Builder>
auto& family(prometheus::Registry& registry, Builder builder, const char* name, const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

FleetMetrics::FleetMetrics(const std::string& version)
    : instances_(family(registry_, prometheus::BuildGauge(), "greenfleet_instances",
                        "Registered instances by confirmed state (unknown = never read).")),
      instances_by_attention_(family(registry_, prometheus::BuildGauge(),
                                     "greenfleet_instances_by_attention",
                                     "Registered instances by derived attention at scrape time.")),
      needs_scan_(family(registry_, prometheus::BuildGauge(), "greenfleet_needs_scan_instances",
                         "Instances that need a QR scan to be linked again.")
                      .Add({})),
      sessions_active_(family(registry_, prometheus::BuildGauge(),
                              "greenfleet_scan_sessions_active", "QR scan sessions polling now.")
                           .Add({})),
      in_flight_(family(registry_, prometheus::BuildGauge(), "greenfleet_scheduler_in_flight",
                        "Upstream requests in flight now.")
                     .Add({})),
      upstream_requests_(family(registry_, prometheus::BuildCounter(),
                                "greenfleet_upstream_requests_total",
                                "Finished Green API requests by method and result.")),
      upstream_duration_(family(registry_, prometheus::BuildHistogram(),
                                "greenfleet_upstream_request_duration_seconds",
                                "Duration of Green API requests by method.")),
      lateness_(family(registry_, prometheus::BuildHistogram(),
                       "greenfleet_scheduler_lateness_seconds",
                       "How long after its due time an upstream request started.")
                    .Add({}, kLatenessBuckets)),
      backoffs_(family(registry_, prometheus::BuildCounter(), "greenfleet_backoffs_total",
                       "Results that put an instance's method into backoff (429s and outages).")),
      api_requests_(family(registry_, prometheus::BuildCounter(), "greenfleet_api_requests_total",
                           "Answered admin API requests by route pattern and status.")),
      api_duration_(family(registry_, prometheus::BuildHistogram(),
                           "greenfleet_api_request_duration_seconds",
                           "Admin API request handling time by route pattern.")),
      alert_notices_(family(registry_, prometheus::BuildCounter(), "greenfleet_alert_notices_total",
                            "Alert notices by result: delivered, failed (attempts, retried), "
                            "dropped (a target's queue was full).")),
      status_updates_dropped_(
          family(registry_, prometheus::BuildCounter(), "greenfleet_status_updates_dropped_total",
                 "Status rows and events dropped unwritten: the writer's queue was full while "
                 "the database failed (status.max_pending_updates).")
              .Add({})) {
  family(registry_, prometheus::BuildGauge(), "greenfleet_build_info",
         "Always 1; the labels say which build is running.")
      .Add({{"version", version}})
      .Set(1);
  addUpstreamSeries();
  addAttentionAndStateSeries();
}

void FleetMetrics::addUpstreamSeries() {
  for (std::size_t m = 0; m < scheduler::kMethodCount; ++m) {
    const auto method = label(scheduler::methodName(static_cast<scheduler::Method>(m)));
    auto& by_kind = upstream_by_result_.emplace_back();
    for (std::size_t k = 0; k < fleet::kOutcomeKindCount; ++k) {
      const auto result = label(fleet::outcomeKindName(static_cast<fleet::OutcomeKind>(k)));
      by_kind.push_back(&upstream_requests_.Add({{"method", method}, {"result", result}}));
    }
    upstream_duration_by_method_.push_back(
        &upstream_duration_.Add({{"method", method}}, kUpstreamBuckets));
    backoffs_by_method_.push_back(&backoffs_.Add({{"method", method}}));
  }
}

void FleetMetrics::addAttentionAndStateSeries() {
  for (std::size_t a = 0; a < fleet::kAttentionCount; ++a) {
    attention_gauges_.push_back(&instances_by_attention_.Add(
        {{"attention", label(fleet::attentionName(static_cast<fleet::Attention>(a)))}}));
  }
  for (const auto kind : kKnownStates) {
    const auto name = label(fleet::stateKindName(kind));
    state_gauges_.emplace(name, &instances_.Add({{"state", name}}));
  }
}

void FleetMetrics::recordUpstream(const scheduler::Job& job, const scheduler::Outcome& outcome) {
  const auto m = static_cast<std::size_t>(job.method);
  const auto k = static_cast<std::size_t>(outcome.kind);
  if (m >= upstream_by_result_.size() || k >= fleet::kOutcomeKindCount) return;
  upstream_by_result_[m][k]->Increment();
  upstream_duration_by_method_[m]->Observe(seconds(outcome.took));
  lateness_.Observe(std::max(0.0, seconds(job.startedAt - job.dueAt)));
  if (outcome.kind == fleet::OutcomeKind::rateLimited || fleet::isOutage(outcome.kind)) {
    backoffs_by_method_[m]->Increment();
  }
}

void FleetMetrics::recordApiRequest(const std::string& route, int status, double seconds) {
  // Route patterns and status codes are bounded sets; the raw path (with ids) never is.
  const std::string route_label = route.empty() ? std::string(kUnmatchedRoute) : route;
  api_requests_.Add({{"route", route_label}, {"status", std::to_string(status)}}).Increment();
  api_duration_.Add({{"route", route_label}}, kApiBuckets).Observe(std::max(0.0, seconds));
}

void FleetMetrics::recordStatusUpdatesDropped(std::uint64_t count) {
  status_updates_dropped_.Increment(static_cast<double>(count));
}

std::string FleetMetrics::scrape(scheduler::FleetPoller& poller) {
  // Read the poller before taking our lock: its lock and ours are never held together.
  const scheduler::FleetCounts counts = poller.snapshot()->counts;
  const scheduler::SchedulerStats stats = poller.stats();
  // Refresh and collect under one lock, so a concurrent scrape never sees half-refreshed gauges.
  std::lock_guard lock(scrape_mutex_);
  for (auto& [name, gauge] : state_gauges_) gauge->Set(0);
  for (const auto& [name, count] : counts.byState) {
    auto it = state_gauges_.find(name);
    if (it == state_gauges_.end()) {
      const std::string series = state_gauges_.size() < kMaxStateSeries ? name : kOtherState;
      it = state_gauges_.find(series);
      if (it == state_gauges_.end()) {
        it = state_gauges_.emplace(series, &instances_.Add({{"state", series}})).first;
      }
    }
    it->second->Increment(static_cast<double>(count));
  }
  for (std::size_t a = 0; a < attention_gauges_.size(); ++a) {
    attention_gauges_[a]->Set(static_cast<double>(counts.byAttention[a]));
  }
  needs_scan_.Set(static_cast<double>(counts.needsScan));
  sessions_active_.Set(static_cast<double>(stats.activeSessions));
  in_flight_.Set(static_cast<double>(stats.inFlight));
  return prometheus::TextSerializer().Serialize(registry_.Collect());
}

void FleetMetrics::recordAlerts(std::string_view result, std::uint64_t count) {
  alert_notices_.Add({{"result", std::string(result)}}).Increment(static_cast<double>(count));
}

}  // namespace greenfleet::api
