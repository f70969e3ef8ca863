#pragma once
// WebhookHandler: POST /webhooks/green-api, where Green API delivers incoming notifications
// (point an instance's webhookUrl here and set its webhookUrlToken to webhooks.token, or let
// configure-webhook give the instance a token of its own, which authenticates notifications
// about that instance only; webhooks.token keeps working for every instance).
// stateInstanceChanged moves the instance at once (source webhook) and asks for a confirming
// probe; other types are counted and ignored. Green API retries non-200 answers for 24 h, so
// every well-formed, authenticated notification is answered 200 at once — also for instances
// we do not know (counted, not stored). Thread-safe.

#include <atomic>
#include <cstdint>

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

struct WebhookCounters {
  std::atomic<std::uint64_t> state_changes{0};
  std::atomic<std::uint64_t> other_types{0};
  std::atomic<std::uint64_t> unknown_instances{0};
  std::atomic<std::uint64_t> rejected{0};
};

class WebhookHandler {
 public:
  explicit WebhookHandler(ApiContext& context) : context_(context) {}
  ApiResponse handle(ApiRequest& request);
  const WebhookCounters& counters() const { return counters_; }

 private:
  void authenticate(const ApiRequest& request);
  ApiContext& context_;
  WebhookCounters counters_;
};

}  // namespace greenfleet::api
