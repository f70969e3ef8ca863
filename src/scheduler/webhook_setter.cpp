#include "scheduler/webhook_setter.hpp"

#include <sstream>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "scheduler/awaited_reply.hpp"

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

WebhookSetter::WebhookSetter(greenapi::TransferEngine& engine, const base::Clock& clock,
                             base::Duration min_interval)
    : engine_(engine), spacing_(clock, min_interval) {}

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
  const auto refused = spacing_.claim(id);
  if (!refused) return std::nullopt;
  WebhookCheck check;
  check.status = refused->busy ? WebhookCheck::Status::busy : WebhookCheck::Status::rateLimited;
  check.retryAfter = refused->retryAfter;
  return check;
}

WebhookCheck WebhookSetter::check(const greenapi::InstanceCredentials& credentials,
                                  const std::string& url, const std::optional<std::string>& token,
                                  WebhookCheck result) {
  auto raw = awaitReply(engine_, credentials, "getSettings");
  result.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    result.status = WebhookCheck::Status::rateLimited;
    result.retryAfter = spacing_.minInterval();
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
  auto raw = awaitReply(engine_, credentials, "setSettings", settingsBody(url, token));
  result.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    result.status = WebhookCheck::Status::rateLimited;
    result.retryAfter = spacing_.minInterval();
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
  spacing_.release(id);
  return result;
}

WebhookCheck WebhookSetter::verify(const greenapi::InstanceCredentials& credentials,
                                   const std::string& url,
                                   const std::optional<std::string>& token) {
  const auto id = credentials.idInstance;
  if (auto refused = claim(id)) return *refused;
  auto result = check(credentials, url, token, WebhookCheck{});
  spacing_.release(id);
  return result;
}

}  // namespace greenfleet::scheduler
