#include "emulator/webhook_settings_table.hpp"

namespace greenfleet::emulator {

void WebhookSettingsTable::apply(std::int64_t id, const std::optional<std::string>& url,
                                 const std::optional<std::string>& token,
                                 const std::optional<std::string>& state_webhook) {
  std::lock_guard lock(mutex_);
  auto& s = settings_[id];
  if (url) s.url = *url;
  if (token) s.token = *token;
  if (state_webhook) s.state_webhook = *state_webhook;
}

std::optional<InstanceWebhookSettings> WebhookSettingsTable::get(std::int64_t id) const {
  std::lock_guard lock(mutex_);
  const auto it = settings_.find(id);
  if (it == settings_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::int64_t> WebhookSettingsTable::ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> out;
  out.reserve(settings_.size());
  for (const auto& [id, s] : settings_) out.push_back(id);
  return out;
}

}  // namespace greenfleet::emulator
