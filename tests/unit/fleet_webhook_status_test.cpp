#include <doctest/doctest.h>

#include "fleet/webhook_status.hpp"

using namespace greenfleet::fleet;

TEST_CASE("webhook statuses round-trip through their names") {
  for (const auto s : {WebhookStatus::configured, WebhookStatus::missing, WebhookStatus::mismatch,
                       WebhookStatus::unknown}) {
    CHECK(parseWebhookStatus(webhookStatusName(s)) == s);
  }
  CHECK(webhookStatusName(WebhookStatus::mismatch) == "mismatch");
  CHECK_FALSE(parseWebhookStatus("Configured").has_value());
  CHECK_FALSE(parseWebhookStatus("").has_value());
}

TEST_CASE("getSettings compares as configured only with our URL, our token and stateWebhook yes") {
  const std::string url = "https://fleet.example.com/webhooks/green-api";
  const std::optional<std::string> token = std::string(64, 'a');
  CHECK(compareWebhookSettings({url, *token, "yes"}, url, token) == WebhookStatus::configured);
  CHECK(compareWebhookSettings({"", "", "no"}, url, token) == WebhookStatus::missing);
  CHECK(compareWebhookSettings({"", *token, "yes"}, url, token) == WebhookStatus::missing);
  CHECK(compareWebhookSettings({url, *token, "no"}, url, token) == WebhookStatus::mismatch);
  CHECK(compareWebhookSettings({url + "/", *token, "yes"}, url, token) == WebhookStatus::mismatch);
  CHECK(compareWebhookSettings({url, "other", "yes"}, url, token) == WebhookStatus::mismatch);
  CHECK(compareWebhookSettings({"https://crm.example/hook", *token, "yes"}, url, token) ==
        WebhookStatus::mismatch);
  // greenfleet never set a token: any webhook found is someone else's.
  CHECK(compareWebhookSettings({url, "", "yes"}, url, std::nullopt) == WebhookStatus::mismatch);
  CHECK(compareWebhookSettings({url, "", "yes"}, url, std::string()) == WebhookStatus::mismatch);
  CHECK(compareWebhookSettings({"", "", "no"}, url, std::nullopt) == WebhookStatus::missing);
}
