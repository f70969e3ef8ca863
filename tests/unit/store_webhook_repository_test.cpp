#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <Poco/Data/Session.h>

#include "store/instance_repository.hpp"
#include "store/stored_tokens.hpp"
#include "store/token_cipher.hpp"
#include "store/webhook_repository.hpp"
#include "support/migrated_store.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using fleet::WebhookStatus;
using namespace Poco::Data::Keywords;

namespace {

const std::string kUrl = "https://fleet.example.com/webhooks/green-api";

struct WebhookFixture : testing::MigratedStore {
  WebhookRepository webhooks{db, cipher};

  WebhookFixture() {
    addInstances({1, 2, 3}, [](std::int64_t id) {
      return "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a" + std::to_string(id);
    });
  }
};

}  // namespace

TEST_CASE("an instance's webhook token is random, kept, and stored only sealed") {
  WebhookFixture f;
  const auto token = f.webhooks.tokenFor(1, kUrl, 1000);
  REQUIRE(token.has_value());
  CHECK(token->size() == 64);
  CHECK(token->find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(f.webhooks.tokenFor(1, kUrl, 2000) == token);  // configuring again keeps it
  CHECK(f.webhooks.token(1) == token);
  const auto other = f.webhooks.tokenFor(2, kUrl, 1000);
  REQUIRE(other.has_value());
  CHECK(*other != *token);
  CHECK_FALSE(f.webhooks.tokenFor(99, kUrl, 1000).has_value());  // not registered
  CHECK_FALSE(f.webhooks.token(3).has_value());
  CHECK(f.rawFile().find(*token) == std::string::npos);
  const auto row = f.webhooks.get(1);
  REQUIRE(row.has_value());
  CHECK(row->url == kUrl);
  CHECK(row->status == WebhookStatus::unknown);
}

TEST_CASE("a sealed instance token moved into the webhook column does not open") {
  WebhookFixture f;
  REQUIRE(f.webhooks.tokenFor(1, kUrl, 1000).has_value());
  {
    auto session = f.db.acquire();
    *session << "UPDATE instance_webhooks SET token = (SELECT token FROM instances WHERE id = 1) "
                "WHERE id = 1",
        now;
  }
  CHECK_THROWS_AS(f.webhooks.token(1), SecretsError);
}

TEST_CASE(
    "webhook statuses are stored, shown beside instances, counted, and go with the instance") {
  WebhookFixture f;
  f.webhooks.setStatus(1, WebhookStatus::configured, 1000);
  f.webhooks.setStatus(2, WebhookStatus::mismatch, 1000);
  f.webhooks.setStatus(99, WebhookStatus::missing, 1000);  // not registered: nothing stored
  CHECK(f.webhooks.get(1)->status == WebhookStatus::configured);
  CHECK(f.webhooks.get(1)->checked_at_ms == 1000);
  CHECK_FALSE(f.webhooks.get(1)->token.has_value());
  CHECK_FALSE(f.webhooks.get(99).has_value());

  auto page = f.instances.list({});
  f.webhooks.fillStatus(page.items);
  REQUIRE(page.items.size() == 3);
  CHECK(page.items[0].webhook == WebhookStatus::configured);
  CHECK(page.items[1].webhook == WebhookStatus::mismatch);
  CHECK(page.items[2].webhook == WebhookStatus::unknown);

  auto counts = f.webhooks.countByStatus();
  CHECK(counts[WebhookStatus::configured] == 1);
  CHECK(counts[WebhookStatus::mismatch] == 1);
  CHECK(counts[WebhookStatus::missing] == 0);

  // Configuring after a verify keeps the status row and adds the token.
  const auto token = f.webhooks.tokenFor(2, kUrl, 2000);
  CHECK(f.webhooks.get(2)->status == WebhookStatus::mismatch);
  CHECK(f.webhooks.get(2)->token == token);

  REQUIRE(f.instances.remove(1));
  CHECK_FALSE(f.webhooks.get(1).has_value());
  CHECK(f.webhooks.countByStatus()[WebhookStatus::configured] == 0);
}

TEST_CASE("secrets rotation re-seals webhook tokens with the instance tokens") {
  WebhookFixture f;
  const auto token = f.webhooks.tokenFor(1, kUrl, 1000);
  f.webhooks.setStatus(3, WebhookStatus::missing, 1000);  // a row without a token
  const TokenCipher next(TokenCipher::generateKey());
  CHECK(StoredTokens(f.db).reseal(f.cipher, next, nullptr) == 4);  // 3 instances + 1 webhook
  WebhookRepository rotated(f.db, next);
  CHECK(rotated.token(1) == token);
  CHECK(rotated.get(3)->status == WebhookStatus::missing);
  CHECK_THROWS_AS(f.webhooks.token(1), SecretsError);
}
