#include <doctest/doctest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "scheduler/webhook_setter.hpp"

using greenfleet::scheduler::WebhookSetter;

TEST_CASE("the setSettings body sets webhookUrl, webhookUrlToken and stateWebhook, escaped") {
  const auto body =
      WebhookSetter::settingsBody("https://f.example/webhooks/green-api?a=\"b\"", "t0k");
  const auto o = Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  CHECK(o->size() == 3);
  CHECK(o->getValue<std::string>("webhookUrl") == "https://f.example/webhooks/green-api?a=\"b\"");
  CHECK(o->getValue<std::string>("webhookUrlToken") == "t0k");
  CHECK(o->getValue<std::string>("stateWebhook") == "yes");
}

TEST_CASE("getSettings answers are read for their webhook fields, strictly") {
  const auto s = WebhookSetter::parseSettings(
      R"({"wid":"","webhookUrl":"https://a/b","webhookUrlToken":"x","stateWebhook":"yes",)"
      R"("incomingWebhook":"no","delaySendMessagesMilliseconds":5000})");
  REQUIRE(s.has_value());
  CHECK(s->url == "https://a/b");
  CHECK(s->token == "x");
  CHECK(s->state_webhook == "yes");
  // A fresh instance: settings are off and may be absent or null.
  const auto fresh = WebhookSetter::parseSettings(R"({"webhookUrl":null})");
  REQUIRE(fresh.has_value());
  CHECK(fresh->url.empty());
  CHECK(fresh->state_webhook.empty());
  CHECK_FALSE(WebhookSetter::parseSettings(R"({"webhookUrl":42})").has_value());
  CHECK_FALSE(WebhookSetter::parseSettings("[]").has_value());
  CHECK_FALSE(WebhookSetter::parseSettings("<html>").has_value());
  CHECK_FALSE(WebhookSetter::parseSettings("{\"webhookUrl\":\"" + std::string(5000, 'x') + "\"}")
                  .has_value());
}

TEST_CASE("only saveSettings true counts as saved") {
  CHECK(WebhookSetter::parseSaved(R"({"saveSettings":true})"));
  CHECK_FALSE(WebhookSetter::parseSaved(R"({"saveSettings":false})"));
  CHECK_FALSE(WebhookSetter::parseSaved(R"({"saveSettings":"true"})"));
  CHECK_FALSE(WebhookSetter::parseSaved("{}"));
  CHECK_FALSE(WebhookSetter::parseSaved("garbage"));
}
