#pragma once
// WebhookSetup: configure-webhook and verify-webhook for one instance, shared by the instance
// actions and the fleet jobs. configure: the instance's own webhookUrlToken (made and stored
// sealed on first use) and public.base_url + /webhooks/green-api go to Green API through
// scheduler::WebhookSetter (setSettings, then getSettings to verify); verify: getSettings only.
// The status getSettings showed is stored (instance_webhooks) and counted for /summary.
// Tokens never leave this class except towards Green API. Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/api_context.hpp"
#include "fleet/webhook_status.hpp"
#include "scheduler/webhook_setter.hpp"

namespace greenfleet::api {

// Said in every confirmation: the caller should know what setSettings does to an instance.
inline constexpr const char* kWebhookSetupNotice =
    "setSettings makes the instance reboot (a few seconds in starting) and Green API allows it "
    "once per second per instance: greenfleet sends it at most once per instance per "
    "webhooks.configure_min_interval_ms, one operation at a time per instance";

class WebhookSetup {
 public:
  explicit WebhookSetup(ApiContext& context) : context_(context) {}

  // public.base_url + "/webhooks/green-api"; ApiError 409 base_url_missing when it is not set
  // (Green API must reach the URL from the internet, so the listener's own address will not do).
  std::string webhookUrl() const;
  // ApiError 404 for an unknown instance,.
  scheduler::WebhookCheck configure(std::int64_t id);
  scheduler::WebhookCheck verify(std::int64_t id);
  // Instances per status, `instances` being the fleet's size (instances greenfleet never checked
  // are unknown). Read from the store at most once per second, or after a status changed.
  std::map<fleet::WebhookStatus, std::int64_t> counts(std::int64_t instances);

 private:
  void record(std::int64_t id, const scheduler::WebhookCheck& check);

  ApiContext& context_;
  std::mutex counts_mutex_;
  std::optional<std::map<fleet::WebhookStatus, std::int64_t>> stored_counts_;
  base::SteadyTime counts_read_at_{};
};

}  // namespace greenfleet::api
