#include "scheduler/webhook_setter.hpp"

#include <future>
#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace greenfleet::scheduler {

namespace {
// Settings values are short strings; anything longer is not one.
constexpr std::size_t kMaxSettingLength = 2048;

std::optional<std::string> stringField(const Poco::JSON::Object::Ptr& o, const char* name) {
  if (!o->has(name)) return std::string();
  const auto v = o->get(name);
  if (v.isEmpty()) return std::string();
  if (!v.isString()) return std::nullopt;
  auto text = v.extract<std::string>();
  if (text.size() > kMaxSettingLength) return std::nullopt;
  return text;
}
}  // namespace

WebhookSetter::WebhookSetter(greenapi::TransferEngine& engine, const fleet::Clock& clock,
                             fleet::Duration min_interval)
    : engine_(engine), clock_(clock), min_interval_(min_interval) {}

std::string WebhookSetter::settingsBody(const std::string& url, const std::string& token) {
  Poco::JSON::Object o;
  o.set("webhookUrl", url);
  o.set("webhookUrlToken", token);
  o.set("stateWebhook", std::string("yes"));
  std::ostringstream out;
  o.stringify(out);
  return out.str();
}

std::optional<fleet::WebhookSettings> WebhookSetter::parseSettings(const std::string& body) {
  try {
    const auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    if (!o) return std::nullopt;
    const auto url = stringField(o, "webhookUrl");
    const auto token = stringField(o, "webhookUrlToken");
    const auto state = stringField(o, "stateWebhook");
    if (!url || !token || !state) return std::nullopt;
    return fleet::WebhookSettings{*url, *token, *state};
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

bool WebhookSetter::parseSaved(const std::string& body) {
  try {
    const auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
    return o && o->has("saveSettings") && o->get("saveSettings").isBoolean() &&
           o->getValue<bool>("saveSettings");
  } catch (const Poco::Exception&) {
    return false;
  }
}

std::optional<WebhookCheck> WebhookSetter::claim(std::int64_t id) {
  std::lock_guard lock(mutex_);
  WebhookCheck refused;
  if (in_flight_.count(id) != 0) {
    refused.status = WebhookCheck::Status::busy;
    refused.retryAfter = min_interval_;
    return refused;
  }
  const auto now = clock_.steadyNow();
  const auto last = last_start_.find(id);
  if (last != last_start_.end() && now < last->second + min_interval_) {
    refused.status = WebhookCheck::Status::rateLimited;
    refused.retryAfter = last->second + min_interval_ - now;
    return refused;
  }
  in_flight_.insert(id);
  last_start_[id] = now;
  return std::nullopt;
}

void WebhookSetter::release(std::int64_t id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(id);
  // The spacing of an instance that ended long ago no longer matters: keep the map small.
  const auto now = clock_.steadyNow();
  if (last_start_.size() > 4096) {
    std::erase_if(last_start_, [&](const auto& e) { return now >= e.second + min_interval_; });
  }
}

greenapi::RawReply WebhookSetter::call(const greenapi::InstanceCredentials& credentials,
                                       const std::string& method, std::string post_body) {
  std::promise<greenapi::RawReply> reply;
  auto future = reply.get_future();
  engine_.submit(greenapi::TransferEngine::Request{
      credentials, method, [&reply](greenapi::RawReply&& raw) { reply.set_value(std::move(raw)); },
      std::move(post_body)});
  return future.get();  // the engine completes every request exactly once
}

WebhookCheck WebhookSetter::check(const greenapi::InstanceCredentials& credentials,
                                  const std::string& url, const std::optional<std::string>& token,
                                  WebhookCheck result) {
  auto raw = call(credentials, "getSettings", {});
  result.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    result.status = WebhookCheck::Status::rateLimited;
    result.retryAfter = min_interval_;
    return result;
  }
  if (!raw.outcome.ok()) {
    result.status = WebhookCheck::Status::failed;
    return result;
  }
  const auto seen = parseSettings(raw.body);
  if (!seen) {
    result.status = WebhookCheck::Status::failed;
    result.upstream.kind = greenapi::OutcomeKind::malformedBody;
    result.upstream.message = "getSettings answer is not a settings object";
    return result;
  }
  result.status = WebhookCheck::Status::checked;
  result.webhook = fleet::compareWebhookSettings(*seen, url, token);
  return result;
}

WebhookCheck WebhookSetter::configure(const greenapi::InstanceCredentials& credentials,
                                      const std::string& url, const std::string& token) {
  const auto id = credentials.idInstance;
  if (auto refused = claim(id)) return *refused;
  WebhookCheck result;
  auto raw = call(credentials, "setSettings", settingsBody(url, token));
  result.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    result.status = WebhookCheck::Status::rateLimited;
    result.retryAfter = min_interval_;
  } else if (!raw.outcome.ok() || !parseSaved(raw.body)) {
    result.status = WebhookCheck::Status::failed;
    if (raw.outcome.ok()) {
      result.upstream.kind = greenapi::OutcomeKind::malformedBody;
      result.upstream.message = "setSettings did not answer saveSettings true";
    }
  } else {
    result.saved = true;
    result = check(credentials, url, token, result);
  }
  release(id);
  return result;
}

WebhookCheck WebhookSetter::verify(const greenapi::InstanceCredentials& credentials,
                                   const std::string& url,
                                   const std::optional<std::string>& token) {
  const auto id = credentials.idInstance;
  if (auto refused = claim(id)) return *refused;
  auto result = check(credentials, url, token, WebhookCheck{});
  release(id);
  return result;
}

}  // namespace greenfleet::scheduler
