#include "api/webhook_setup.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "api/api_error.hpp"
#include "base/time_format.hpp"
#include "store/webhook_repository.hpp"

namespace greenfleet::api {

namespace {
constexpr std::chrono::seconds kCountsMaxAge{1};
}  // namespace

std::string WebhookSetup::webhookUrl() const {
  std::string base = context_.scan_link_settings.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.empty()) {
    throw ApiError(ErrorKind::conflict, "base_url_missing",
                   "public.base_url is not set: Green API needs the address it can reach "
                   "greenfleet's /webhooks/green-api at (e.g. https://fleet.example.com)");
  }
  return base + "/webhooks/green-api";
}

scheduler::WebhookCheck WebhookSetup::configure(std::int64_t id) {
  const auto url = webhookUrl();
  const auto row = context_.instances.get(id);
  if (!row) throw ApiError::notFound(fmt::format("no instance {}", id));
  const auto now_ms = base::toUnixMillis(context_.clock.wallNow());
  const auto token = context_.webhooks.tokenFor(id, url, now_ms);
  if (!token) throw ApiError::notFound(fmt::format("no instance {}", id));
  const greenapi::InstanceCredentials credentials{row->instance.api_url, id, row->instance.token};
  const auto check = context_.webhook_setter.configure(credentials, url, *token);
  record(id, check);
  return check;
}

scheduler::WebhookCheck WebhookSetup::verify(std::int64_t id) {
  const auto url = webhookUrl();
  const auto row = context_.instances.get(id);
  if (!row) throw ApiError::notFound(fmt::format("no instance {}", id));
  const auto stored = context_.webhooks.get(id);
  const auto check = context_.webhook_setter.verify(
      {row->instance.api_url, id, row->instance.token}, url, stored ? stored->token : std::nullopt);
  record(id, check);
  return check;
}

void WebhookSetup::record(std::int64_t id, const scheduler::WebhookCheck& check) {
  using S = scheduler::WebhookCheck::Status;
  // Refused before any call: nothing was learnt.
  if (check.status == S::busy || check.status == S::rateLimited) return;
  const auto status = check.status == S::checked ? check.webhook : fleet::WebhookStatus::unknown;
  context_.webhooks.setStatus(id, status, base::toUnixMillis(context_.clock.wallNow()));
  std::lock_guard lock(counts_mutex_);
  stored_counts_.reset();
}

std::map<fleet::WebhookStatus, std::int64_t> WebhookSetup::counts(std::int64_t instances) {
  std::map<fleet::WebhookStatus, std::int64_t> out;
  {
    std::lock_guard lock(counts_mutex_);
    const auto now = context_.clock.steadyNow();
    if (!stored_counts_ || now - counts_read_at_ >= kCountsMaxAge) {
      stored_counts_ = context_.webhooks.countByStatus();
      counts_read_at_ = now;
    }
    out = *stored_counts_;
  }
  std::int64_t known = 0;
  for (const auto status : {fleet::WebhookStatus::configured, fleet::WebhookStatus::missing,
                            fleet::WebhookStatus::mismatch}) {
    known += out[status];
  }
  out[fleet::WebhookStatus::unknown] = std::max<std::int64_t>(0, instances - known);
  return out;
}

}  // namespace greenfleet::api
