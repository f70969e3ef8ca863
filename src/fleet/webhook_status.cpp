#include "fleet/webhook_status.hpp"

#include <array>

namespace greenfleet::fleet {

namespace {
constexpr std::array<std::string_view, kWebhookStatusCount> kNames{"configured", "missing",
                                                                   "mismatch", "unknown"};
}  // namespace

std::string_view webhookStatusName(WebhookStatus status) {
  return kNames[static_cast<std::size_t>(status)];
}

std::optional<WebhookStatus> parseWebhookStatus(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<WebhookStatus>(i);
  }
  return std::nullopt;
}

WebhookStatus compareWebhookSettings(const WebhookSettings& seen, std::string_view url,
                                     const std::optional<std::string>& token) {
  if (seen.url.empty()) return WebhookStatus::missing;
  const bool ours = token && !token->empty() && seen.url == url && seen.token == *token;
  return ours && seen.state_webhook == "yes" ? WebhookStatus::configured : WebhookStatus::mismatch;
}

}  // namespace greenfleet::fleet
