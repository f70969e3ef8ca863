#pragma once
// WebhookSetupHandlers: greenfleet sets up each instance's Green API webhook.
//   POST /api/v1/instances/{id}/actions/configure-webhook  setSettings, then getSettings
//   POST /api/v1/instances/{id}/actions/verify-webhook     getSettings only
//   POST /api/v1/webhooks/configure  {"tag": "shop"} | {"all": true} → 202, a paced job
//   GET  /api/v1/webhooks/configure[/{jobId}]              jobs and their progress
// Every confirmation carries kWebhookSetupNotice (setSettings reboots the instance). 409
// base_url_missing while public.base_url is not set. Thread-safe.

#include <memory>

#include "api/api_context.hpp"
#include "api/router.hpp"
#include "api/webhook_jobs.hpp"
#include "api/webhook_setup.hpp"

namespace greenfleet::api {

class WebhookSetupHandlers {
 public:
  WebhookSetupHandlers(ApiContext& context, std::shared_ptr<WebhookSetup> setup);

  ApiResponse configure(ApiRequest& request);
  ApiResponse verify(ApiRequest& request);
  ApiResponse createJob(ApiRequest& request);
  ApiResponse getJob(ApiRequest& request);
  ApiResponse listJobs(ApiRequest& request);

 private:
  ApiResponse action(ApiRequest& request, const char* name,
                     scheduler::WebhookCheck (WebhookSetup::*run)(std::int64_t));
  // The answer of a single-instance action, or the ApiError its check maps to.
  ApiResponse actionAnswer(std::int64_t id, const char* action,
                           const scheduler::WebhookCheck& check, const std::string& caller);

  ApiContext& context_;
  std::shared_ptr<WebhookSetup> setup_;
  WebhookJobs jobs_;
};

}  // namespace greenfleet::api
