#pragma once
// WebhookStatus: whether an instance's Green API settings send its state changes to greenfleet,
// as the last getSettings showed. configured: webhookUrl and webhookUrlToken are the ones
// greenfleet set and stateWebhook is "yes"; missing: no webhookUrl at all; mismatch: a webhook
// is set but not ours (another URL or token, or stateWebhook off); unknown: never checked, or the
// check failed. Value types, pure.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::fleet {

enum class WebhookStatus { configured, missing, mismatch, unknown };
inline constexpr std::size_t kWebhookStatusCount = 4;

std::string_view webhookStatusName(WebhookStatus status);
std::optional<WebhookStatus> parseWebhookStatus(std::string_view name);

// The webhook fields of a getSettings answer.
struct WebhookSettings {
  std::string url;            // webhookUrl
  std::string token;          // webhookUrlToken
  std::string state_webhook;  // stateWebhook: "yes" or "no"
};

// How `seen` compares with the URL and token greenfleet set (`token` nullopt: greenfleet never
// set one, so any webhook is someone else's).
WebhookStatus compareWebhookSettings(const WebhookSettings& seen, std::string_view url,
                                     const std::optional<std::string>& token);

}  // namespace greenfleet::fleet
