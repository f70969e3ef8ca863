#pragma once
// WebhookSettingsTable: the webhook settings instances set with setSettings (webhookUrl,
// webhookUrlToken, stateWebhook), kept beside the instances rather than in them: a million
// EmulatedInstances stay ~160 bytes each and only the few that set a webhook pay for one.
// An instance with no entry has Green API's defaults (no webhook of its own; the emulator's
// --webhook-url, when given, stands in for the console setting). Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace greenfleet::emulator {

struct InstanceWebhookSettings {
  std::string url;                   // webhookUrl
  std::string token;                 // webhookUrlToken
  std::string state_webhook = "no";  // stateWebhook
};

class WebhookSettingsTable {
 public:
  // Applies the fields given (nullopt: unchanged), like setSettings does.
  void apply(std::int64_t id, const std::optional<std::string>& url,
             const std::optional<std::string>& token,
             const std::optional<std::string>& state_webhook);
  std::optional<InstanceWebhookSettings> get(std::int64_t id) const;
  std::vector<std::int64_t> ids() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::int64_t, InstanceWebhookSettings> settings_;
};

}  // namespace greenfleet::emulator
