#include "api/webhook_setup_handlers.hpp"

#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "base/log.hpp"
#include "base/time_format.hpp"
#include "fleet/input_limits.hpp"
#include "fleet/outcome_kind.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};
constexpr std::size_t kPageRows = 1000;

Poco::JSON::Object::Ptr jobToJson(const WebhookJob& job) {
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(job.id));
  o->set("tag", job.tag ? Poco::Dynamic::Var(*job.tag) : Poco::Dynamic::Var());
  o->set("state", job.state);
  o->set("total", static_cast<Poco::UInt64>(job.total));
  o->set("processed", static_cast<Poco::UInt64>(job.processed));
  o->set("configured", static_cast<Poco::UInt64>(job.configured));
  o->set("mismatch", static_cast<Poco::UInt64>(job.mismatch));
  o->set("missing", static_cast<Poco::UInt64>(job.missing));
  o->set("failed", static_cast<Poco::UInt64>(job.failed));
  Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
  for (const auto& e : job.errors) {
    auto item = orderedObject();
    item->set("id", static_cast<Poco::Int64>(e.id));
    item->set("error", e.error);
    errors->add(item);
  }
  o->set("errors", errors);
  if (!job.error.empty()) o->set("error", job.error);
  o->set("requestedBy", job.requested_by);
  o->set("createdAt", base::formatRfc3339(job.created_at));
  o->set("finishedAt", job.finished_at ? Poco::Dynamic::Var(base::formatRfc3339(*job.finished_at))
                                       : Poco::Dynamic::Var());
  return o;
}
}  // namespace

WebhookSetupHandlers::WebhookSetupHandlers(ApiContext& context, std::shared_ptr<WebhookSetup> setup)
    : context_(context), setup_(setup), jobs_(context, setup, context.webhook_jobs_per_second) {}

ApiResponse WebhookSetupHandlers::actionAnswer(std::int64_t id, const char* action,
                                               const scheduler::WebhookCheck& check,
                                               const std::string& caller) {
  using S = scheduler::WebhookCheck::Status;
  switch (check.status) {
    case S::checked:
      break;
    case S::busy:
    case S::rateLimited:
      throw ApiError::tooManyRequests(
          "rate_limited",
          fmt::format("instance {}'s settings were changed or read just now; Green API allows "
                      "setSettings and getSettings once per second per instance",
                      id),
          check.retryAfter);
    case S::failed:
      throw ApiError(
          ErrorKind::upstreamFailed, "upstream_error",
          fmt::format("{} of instance {}: Green API did not answer as expected ({}{}): {}", action,
                      id, fleet::outcomeKindName(check.upstream.kind),
                      check.saved ? ", after setSettings was saved" : "", check.upstream.message));
  }
  kLog.info("event=action action={} id={} webhook={} by={}", action, id,
            fleet::webhookStatusName(check.webhook), caller);
  context_.record_event(id, "action", action, caller);
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(id));
  o->set("action", std::string(action));
  o->set("webhook", std::string(fleet::webhookStatusName(check.webhook)));
  o->set("webhookUrl", setup_->webhookUrl());
  o->set("notice", std::string(kWebhookSetupNotice));
  return ApiResponse::json(200, *o);
}

ApiResponse WebhookSetupHandlers::configure(ApiRequest& request) {
  return action(request, "configure-webhook", &WebhookSetup::configure);
}

ApiResponse WebhookSetupHandlers::verify(ApiRequest& request) {
  return action(request, "verify-webhook", &WebhookSetup::verify);
}

ApiResponse WebhookSetupHandlers::action(
    ApiRequest& request, const char* name,
    scheduler::WebhookCheck (WebhookSetup::*run)(std::int64_t)) {
  request.allowQuery({});
  if (!request.body.empty()) {
    throw ApiError::badRequest("unexpected_body", "actions take no request body");
  }
  const auto id = request.instanceId();
  const auto check = ((*setup_).*run)(id);
  return actionAnswer(id, name, check, request.caller ? request.caller->name : "-");
}

ApiResponse WebhookSetupHandlers::createJob(ApiRequest& request) {
  request.allowQuery({});
  const auto json = parseJsonBody(request.body.empty() ? std::string("{}") : request.body);
  if (json.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError::badRequest("invalid_type", "the body must be a JSON object");
  }
  JsonFields fields(json);
  const auto tag = fields.optString("tag", fleet::kMaxTagLength);
  const auto all = fields.optBool("all");
  fields.finish();
  if (tag.has_value() == all.value_or(false)) {
    throw ApiError::unprocessable("give either {\"tag\": \"...\"} or {\"all\": true}",
                                  tag ? "all" : "tag");
  }
  const auto url = setup_->webhookUrl();  // 409 before any work when public.base_url is unset
  std::vector<std::int64_t> ids;
  store::InstanceFilter filter;
  filter.tag = tag;
  filter.limit = kPageRows;
  while (true) {
    const auto page = context_.instances.list(filter);
    for (const auto& row : page.items) {
      if (row.instance.enabled) ids.push_back(row.instance.id);
    }
    if (!page.next_after_id) break;
    filter.after_id = page.next_after_id;
  }
  const std::string caller = request.caller ? request.caller->name : "-";
  const auto job = jobs_.start(tag, std::move(ids), caller);
  kLog.info("event=webhook_job job={} tag=\"{}\" instances={} by={}", job.id, tag.value_or("*"),
            job.total, caller);
  auto o = jobToJson(job);
  o->set("webhookUrl", url);
  o->set("perSecond", jobs_.perSecond());
  o->set("notice", std::string(kWebhookSetupNotice));
  ApiResponse r = ApiResponse::json(202, *o);
  r.headers.emplace_back("Location", fmt::format("/api/v1/webhooks/configure/{}", job.id));
  return r;
}

ApiResponse WebhookSetupHandlers::getJob(ApiRequest& request) {
  request.allowQuery({});
  const auto& text = request.params.at("jobId");
  std::int64_t id = 0;
  if (text.empty() || text.size() > 18 ||
      text.find_first_not_of("0123456789") != std::string::npos || (id = std::stoll(text)) <= 0) {
    throw ApiError::notFound(fmt::format("no webhook job '{}'", text));
  }
  const auto job = jobs_.get(id);
  if (!job) throw ApiError::notFound(fmt::format("no webhook job {}", id));
  return ApiResponse::json(200, *jobToJson(*job));
}

ApiResponse WebhookSetupHandlers::listJobs(ApiRequest& request) {
  request.allowQuery({});
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& job : jobs_.list()) items->add(jobToJson(job));
  auto o = orderedObject();
  o->set("items", items);
  return ApiResponse::json(200, *o);
}

}  // namespace greenfleet::api
