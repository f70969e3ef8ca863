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
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "fleet/webhook_status.hpp"
#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/instance_spacing.hpp"

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
  base::Duration retryAfter{};
  greenapi::CallOutcome upstream;
};

class WebhookSetter {
 public:
  WebhookSetter(greenapi::TransferEngine& engine, const base::Clock& clock,
                base::Duration min_interval);

  WebhookCheck configure(const greenapi::InstanceCredentials& credentials, const std::string& url,
                         const std::string& token);
  // `token` nullopt: greenfleet never set one (any webhook found is a mismatch).
  WebhookCheck verify(const greenapi::InstanceCredentials& credentials, const std::string& url,
                      const std::optional<std::string>& token);

  base::Duration minInterval() const { return spacing_.minInterval(); }

  // Pure; exposed for tests. The setSettings body; the webhook fields of a getSettings answer
  // (nullopt when the body is not a settings object); whether a setSettings answer saved.
  static std::string settingsBody(const std::string& url, const std::string& token);
  static std::optional<fleet::WebhookSettings> parseSettings(const std::string& body);
  static bool parseSaved(const std::string& body);

 private:
  // Claims the instance for one operation, or the refusal as a check.
  std::optional<WebhookCheck> claim(std::int64_t id);
  // getSettings and the comparison, on a claimed instance.
  WebhookCheck check(const greenapi::InstanceCredentials& credentials, const std::string& url,
                     const std::optional<std::string>& token, WebhookCheck result);

  greenapi::TransferEngine& engine_;
  InstanceSpacing spacing_;
};

}  // namespace greenfleet::scheduler
