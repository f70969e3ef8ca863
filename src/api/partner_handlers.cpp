#include "api/partner_handlers.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>

#include <Poco/JSON/Array.h>
#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/instance_json.hpp"
#include "api/json_fields.hpp"
#include "api/partner_sync_control.hpp"
#include "base/time_format.hpp"
#include "fleet/api_url_template.hpp"
#include "fleet/registered_instance.hpp"
#include "greenapi/upstream_url.hpp"

namespace greenfleet::api {

namespace {

std::string rfc3339(std::int64_t ms) { return base::formatRfc3339(base::fromUnixMillis(ms)); }

void check(const std::optional<std::string>& problem, const std::string& field) {
  if (problem) throw ApiError::unprocessable(fmt::format("{} {}", field, *problem), field);
}

std::string checkedName(const std::string& name) {
  if (name.empty()) throw ApiError::unprocessable("name must not be empty", "name");
  check(fleet::validateName(name), "name");
  return name;
}

std::string checkedToken(const std::string& token) {
  check(fleet::validateToken(token), "partnerToken");
  return token;
}

// Its shape only: a host upstream.allowed_hosts refuses is reported per instance by the sync.
std::string checkedTemplate(const std::string& url_template) {
  check(fleet::validateApiUrlTemplate(url_template), "apiUrlTemplate");
  const auto sample = greenapi::UpstreamUrl::parse(
      fleet::expandApiUrlTemplate(url_template, fleet::kApiUrlTemplateSampleId));
  if (!sample) check(sample.error(), "apiUrlTemplate");
  return url_template;
}

std::int64_t partnerId(const ApiRequest& request) {
  const auto it = request.params.find("id");
  const std::string text = it == request.params.end() ? std::string() : it->second;
  std::int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    throw ApiError::notFound(fmt::format("no partner account '{}'", text));
  }
  return id;
}

Poco::JSON::Object::Ptr partnerToJson(const store::PartnerAccount& a) {
  auto o = orderedObject();
  o->set("id", static_cast<Poco::Int64>(a.id));
  o->set("name", a.name);
  o->set("partnerApiUrl", a.api_url);
  o->set("tokenHint", a.token_hint);
  Poco::JSON::Array::Ptr tags = new Poco::JSON::Array;
  for (const auto& t : a.tags) tags->add(t);
  o->set("tags", tags);
  o->set("apiUrlTemplate", a.api_url_template);
  o->set("instances", static_cast<Poco::Int64>(a.instances));
  o->set("expiredInstances", static_cast<Poco::Int64>(a.expired_instances));
  o->set("createdAt", rfc3339(a.created_at_ms));
  o->set("updatedAt", rfc3339(a.updated_at_ms));
  o->set("lastSync",
         a.last_sync ? Poco::Dynamic::Var(syncResultToJson(*a.last_sync)) : Poco::Dynamic::Var());
  return o;
}

ApiError duplicateName(const std::string& name) {
  return ApiError(ErrorKind::conflict, "conflict",
                  fmt::format("a partner account named '{}' exists", name), "name");
}

}  // namespace

Poco::JSON::Object::Ptr syncResultToJson(const fleet::PartnerSyncResult& r) {
  auto o = orderedObject();
  o->set("at", rfc3339(r.at_ms));
  o->set("ok", r.ok);
  o->set("listed", static_cast<Poco::UInt64>(r.listed));
  o->set("added", static_cast<Poco::UInt64>(r.added));
  o->set("updated", static_cast<Poco::UInt64>(r.updated));
  o->set("expired", static_cast<Poco::UInt64>(r.expired));
  o->set("unchanged", static_cast<Poco::UInt64>(r.unchanged));
  o->set("notManaged", static_cast<Poco::UInt64>(r.not_managed));
  Poco::JSON::Array::Ptr skipped = new Poco::JSON::Array;
  for (const auto& s : r.skipped) {
    auto item = orderedObject();
    item->set("id", static_cast<Poco::Int64>(s.id));
    item->set("typeInstance", s.type);
    skipped->add(item);
  }
  o->set("skipped", skipped);
  Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
  for (const auto& e : r.errors) errors->add(e);
  o->set("errors", errors);
  return o;
}

ApiResponse PartnerHandlers::create(ApiRequest& request) {
  request.allowQuery({});
  auto& partners = context_.partners;
  JsonFields f(parseJsonBody(request.body));
  store::PartnerAccount a;
  const auto name = f.optString("name");
  if (!name) throw ApiError::unprocessable("name is required", "name");
  a.name = checkedName(*name);
  const auto token = f.optString("partnerToken");
  if (!token) throw ApiError::unprocessable("partnerToken is required", "partnerToken");
  a.token = checkedToken(*token);
  // The partner URL is where the partner token goes: held to the policy an instance's apiUrl is.
  a.api_url = checkedApiUrl(f.optString("partnerApiUrl").value_or(context_.default_api_url),
                            "partnerApiUrl", context_.allowed_hosts);
  a.tags = checkedTags(f.optStringArray("tags").value_or(std::vector<std::string>{}), "tags");
  a.api_url_template = checkedTemplate(
      f.optString("apiUrlTemplate").value_or(std::string(fleet::kDefaultApiUrlTemplate)));
  f.finish();
  auto created = partners.create(a);
  if (!created) throw duplicateName(a.name);
  context_.partner_sync.accountChanged(created.value().id);
  ApiResponse r = ApiResponse::json(201, *partnerToJson(created.value()));
  r.headers.emplace_back("Location", fmt::format("/api/v1/partners/{}", created.value().id));
  return r;
}

ApiResponse PartnerHandlers::list(ApiRequest& request) {
  request.allowQuery({});
  Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
  for (const auto& a : context_.partners.list()) items->add(partnerToJson(a));
  auto root = orderedObject();
  root->set("items", items);
  return ApiResponse::json(200, *root);
}

ApiResponse PartnerHandlers::get(ApiRequest& request) {
  request.allowQuery({});
  const auto id = partnerId(request);
  const auto a = context_.partners.get(id);
  if (!a) throw ApiError::notFound(fmt::format("no partner account {}", id));
  return ApiResponse::json(200, *partnerToJson(*a));
}

ApiResponse PartnerHandlers::update(ApiRequest& request) {
  request.allowQuery({});
  const auto id = partnerId(request);
  JsonFields f(parseJsonBody(request.body));
  store::PartnerPatch p;
  if (auto v = f.optString("name")) p.name = checkedName(*v);
  if (auto v = f.optString("partnerToken")) p.token = checkedToken(*v);
  if (auto v = f.optString("partnerApiUrl"))
    p.api_url = checkedApiUrl(*v, "partnerApiUrl", context_.allowed_hosts);
  if (auto v = f.optStringArray("tags")) p.tags = checkedTags(*v, "tags");
  if (auto v = f.optString("apiUrlTemplate")) p.api_url_template = checkedTemplate(*v);
  f.finish();
  if (!p.name && !p.token && !p.api_url && !p.tags && !p.api_url_template) {
    throw ApiError::unprocessable(
        "nothing to change: send one of name, partnerToken, partnerApiUrl, tags, apiUrlTemplate",
        "{}");
  }
  auto& partners = context_.partners;
  if (p.api_url && !p.token) {
    // The stored token would follow the account to the new URL: only its owner may send it there.
    const auto current = partners.get(id);
    if (!current) throw ApiError::notFound(fmt::format("no partner account {}", id));
    if (current->api_url != *p.api_url) {
      throw ApiError::unprocessable(
          "changing partnerApiUrl needs the partnerToken in the same request", "partnerApiUrl");
    }
  }
  auto updated = partners.update(id, p);
  if (!updated) throw duplicateName(*p.name);
  if (!updated.value()) throw ApiError::notFound(fmt::format("no partner account {}", id));
  context_.partner_sync.accountChanged(id);
  return ApiResponse::json(200, *partnerToJson(*updated.value()));
}

ApiResponse PartnerHandlers::remove(ApiRequest& request) {
  request.allowQuery({});
  const auto id = partnerId(request);
  if (!context_.partners.remove(id))
    throw ApiError::notFound(fmt::format("no partner account {}", id));
  context_.partner_sync.accountRemoved(id);
  return ApiResponse::noContent();
}

ApiResponse PartnerHandlers::sync(ApiRequest& request) {
  request.allowQuery({});
  const auto id = partnerId(request);
  const auto attempt =
      context_.partner_sync.syncNow(id, request.caller ? request.caller->name : "");
  switch (attempt.kind) {
    case SyncAttempt::Kind::unknown:
      throw ApiError::notFound(fmt::format("no partner account {}", id));
    case SyncAttempt::Kind::stopped:
      throw ApiError::unavailable("the service is shutting down");
    case SyncAttempt::Kind::too_soon: {
      const auto seconds = std::max<std::int64_t>(
          1, std::chrono::ceil<std::chrono::seconds>(attempt.retry_after).count());
      ApiError e(ErrorKind::tooManyRequests, "sync_too_soon",
                 fmt::format("partner account {} was synced less than partners.min_interval ago; "
                             "retry in {} s",
                             id, seconds));
      e.headers.emplace_back("Retry-After", std::to_string(seconds));
      throw e;
    }
    case SyncAttempt::Kind::done:
      break;
  }
  if (!attempt.result.ok) {
    throw ApiError(ErrorKind::upstreamFailed, "partner_sync_failed",
                   attempt.result.errors.empty() ? std::string("the partner API call failed")
                                                 : attempt.result.errors.front());
  }
  return ApiResponse::json(200, *syncResultToJson(attempt.result));
}

}  // namespace greenfleet::api
