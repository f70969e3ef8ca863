#pragma once
// WebhookSetter: points an instance's Green API webhook at greenfleet and checks it, through the
// shared upstream engine. configure() sends setSettings (POST {"webhookUrl", "webhookUrlToken",
// "stateWebhook": "yes"}) then getSettings, and compares what getSettings shows; verify() sends
// getSettings only. setSettings is limited to 1 request per second per instance and makes the
// instance reboot, so per instance at most one operation is in flight and operations start at
// least `min_interval` apart (≥ 1.1 s: a 1-rps method called exactly once a second still drew
// 429s, green-api.md §6); each operation calls each method once. configure()/verify() block the
// caller (an API worker or a job thread) until the answers, bounded by the engine's request
// timeout. Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "fleet/clock.hpp"
#include "fleet/webhook_status.hpp"
#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"

namespace greenfleet::scheduler {

struct WebhookCheck {
  enum class Status {
    checked,      // getSettings answered: `webhook` says what it showed
    busy,         // an operation for this instance is in flight
    rateLimited,  // our spacing (or upstream's 429): retry after `retryAfter`
    failed,       // a call failed: `upstream` says how (`saved` tells whether setSettings took)
  };
  Status status = Status::failed;
  fleet::WebhookStatus webhook = fleet::WebhookStatus::unknown;
  bool saved = false;  // configure: setSettings answered saveSettings true
  fleet::Duration retryAfter{};
  greenapi::CallOutcome upstream;
};

class WebhookSetter {
 public:
  WebhookSetter(greenapi::TransferEngine& engine, const fleet::Clock& clock,
                fleet::Duration min_interval);

  WebhookCheck configure(const greenapi::InstanceCredentials& credentials, const std::string& url,
                         const std::string& token);
  // `token` nullopt: greenfleet never set one (any webhook found is a mismatch).
  WebhookCheck verify(const greenapi::InstanceCredentials& credentials, const std::string& url,
                      const std::optional<std::string>& token);

  fleet::Duration minInterval() const { return min_interval_; }

  // Pure; exposed for tests. The setSettings body; the webhook fields of a getSettings answer
  // (nullopt when the body is not a settings object); whether a setSettings answer saved.
  static std::string settingsBody(const std::string& url, const std::string& token);
  static std::optional<fleet::WebhookSettings> parseSettings(const std::string& body);
  static bool parseSaved(const std::string& body);

 private:
  // Claims the instance for one operation, or says why not.
  std::optional<WebhookCheck> claim(std::int64_t id);
  void release(std::int64_t id);
  greenapi::RawReply call(const greenapi::InstanceCredentials& credentials,
                          const std::string& method, std::string post_body);
  // getSettings and the comparison, on a claimed instance.
  WebhookCheck check(const greenapi::InstanceCredentials& credentials, const std::string& url,
                     const std::optional<std::string>& token, WebhookCheck result);

  greenapi::TransferEngine& engine_;
  const fleet::Clock& clock_;
  const fleet::Duration min_interval_;
  std::mutex mutex_;
  std::unordered_set<std::int64_t> in_flight_;
  std::unordered_map<std::int64_t, fleet::SteadyTime> last_start_;
};

}  // namespace greenfleet::scheduler
