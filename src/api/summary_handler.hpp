#pragma once
// SummaryHandler: GET /api/v1/summary — the fleet at a glance for dashboards and humans: totals
// by state and by attention, how many need a scan and who has waited longest, scheduler health
// (probe rate, in flight, lateness, 429s and errors by class) and store health (age of the last
// status batch), webhook statuses. Rendered once per fleet snapshot (≤ 250 ms old), no SQL but
// the webhook counts (a GROUP BY on a small index, at most once a second). Thread-safe.

#include "api/api_context.hpp"
#include "api/router.hpp"
#include "api/snapshot_body_cache.hpp"
#include "api/webhook_setup.hpp"

namespace greenfleet::api {

class SummaryHandler {
 public:
  // `webhooks` counts the instances by webhook status.
  SummaryHandler(ApiContext& context, std::shared_ptr<WebhookSetup> webhooks)
      : context_(context), webhooks_(std::move(webhooks)) {}
  ApiResponse handle(ApiRequest& request);
  // The body already rendered for the current snapshot, without waiting (the loop's fast path).
  std::optional<ApiResponse> fast(ApiRequest& request);

 private:
  std::string render(const scheduler::FleetSnapshot& snapshot);
  Poco::JSON::Object::Ptr byWebhook(std::size_t instances);  // instances per webhook status
  ApiContext& context_;
  std::shared_ptr<WebhookSetup> webhooks_;
  SnapshotBodyCache bodies_{context_.clock};  // one rendering per fleet snapshot
};

}  // namespace greenfleet::api
