#include <doctest/doctest.h>

#include <map>

#include "fleet/api_url_template.hpp"
#include "fleet/partner_reconciliation.hpp"

using namespace greenfleet::fleet;

namespace {
const std::string kTokenA(50, 'a');
const std::string kTokenB(50, 'b');
constexpr std::int64_t kPartner = 7;

PartnerInstance item(std::int64_t id, const std::string& token = kTokenA,
                     const std::string& type = "whatsapp") {
  return PartnerInstance{id, "Instance " + std::to_string(id), type, token, false, false};
}

struct Registry {
  std::map<std::int64_t, KnownInstance> rows;
  KnownInstanceLookup lookup() const {
    return [this](std::int64_t id) -> std::optional<KnownInstance> {
      const auto it = rows.find(id);
      if (it == rows.end()) return std::nullopt;
      return it->second;
    };
  }
};

const PartnerDefaults kDefaults{kPartner, {"partner", "eu"}, "https://{first4}.api.green-api.com"};
}  // namespace

TEST_CASE(
    "a partner sync registers new whatsapp instances with the partner's tags and templated "
    "apiUrl") {
  Registry reg;
  const auto plan =
      planReconciliation({item(1101000001), item(7105000002)}, kDefaults, reg.lookup());
  REQUIRE(plan.added.size() == 2);
  CHECK(plan.added[0].id == 1101000001);
  CHECK(plan.added[0].token == kTokenA);
  CHECK(plan.added[0].name == "Instance 1101000001");
  CHECK(plan.added[0].tags == std::vector<std::string>{"partner", "eu"});
  CHECK(plan.added[0].api_url == "https://1101.api.green-api.com");
  CHECK(plan.added[1].api_url == "https://7105.api.green-api.com");
  CHECK(plan.changesRegistry());
}

TEST_CASE("a partner sync updates a rotated token and leaves an unchanged one alone") {
  Registry reg;
  reg.rows[1] = KnownInstance{kPartner, kTokenA, false};
  reg.rows[2] = KnownInstance{kPartner, kTokenA, false};
  const auto plan = planReconciliation({item(1, kTokenB), item(2)}, kDefaults, reg.lookup());
  REQUIRE(plan.token_changes.size() == 1);
  CHECK(plan.token_changes[0].id == 1);
  CHECK(plan.token_changes[0].token == kTokenB);
  CHECK(plan.unchanged == 1);
  CHECK(plan.added.empty());
}

TEST_CASE("deleted or expired partner instances are marked expired, never registered") {
  Registry reg;
  reg.rows[1] = KnownInstance{kPartner, kTokenA, false};
  reg.rows[2] = KnownInstance{kPartner, kTokenA, false};
  reg.rows[3] = KnownInstance{kPartner, kTokenA, true};  // already expired
  auto deleted = item(1);
  deleted.deleted = true;
  auto expired = item(2);
  expired.expired = true;
  auto still_expired = item(3);
  still_expired.expired = true;
  auto new_but_deleted = item(4);
  new_but_deleted.deleted = true;
  const auto plan = planReconciliation({deleted, expired, still_expired, new_but_deleted},
                                       kDefaults, reg.lookup());
  CHECK(plan.expired == std::vector<std::int64_t>{1, 2});
  CHECK(plan.unchanged == 1);
  CHECK(plan.added.empty());
}

TEST_CASE("an expired partner instance that is live again is restored with its current token") {
  Registry reg;
  reg.rows[1] = KnownInstance{kPartner, kTokenA, true};
  const auto plan = planReconciliation({item(1, kTokenB)}, kDefaults, reg.lookup());
  REQUIRE(plan.restored.size() == 1);
  CHECK(plan.restored[0].token == kTokenB);
  CHECK(plan.token_changes.empty());
}

TEST_CASE("instances registered by hand or by another partner are never touched") {
  Registry reg;
  reg.rows[1] = KnownInstance{std::nullopt, kTokenA, false};  // by hand
  reg.rows[2] = KnownInstance{kPartner + 1, kTokenA, false};  // another account
  auto deleted = item(1, kTokenB);
  deleted.deleted = true;
  const auto plan = planReconciliation({deleted, item(2, kTokenB)}, kDefaults, reg.lookup());
  CHECK(plan.not_managed == 2);
  CHECK_FALSE(plan.changesRegistry());
}

TEST_CASE("only whatsapp instances are polled; other types are listed as skipped") {
  Registry reg;
  const auto plan = planReconciliation(
      {item(1, kTokenA, "telegram"), item(2, kTokenA, "v3"), item(3)}, kDefaults, reg.lookup());
  REQUIRE(plan.skipped.size() == 2);
  CHECK(plan.skipped[0].id == 1);
  CHECK(plan.skipped[0].type == "telegram");
  CHECK(plan.skipped[1].type == "v3");
  REQUIRE(plan.added.size() == 1);
  CHECK(plan.added[0].id == 3);
}

TEST_CASE("unusable partner items are errors named by id, never by token") {
  Registry reg;
  const std::string bad_token = "has space " + kTokenB;
  const auto plan =
      planReconciliation({item(0), item(5, bad_token), item(6), item(6)}, kDefaults, reg.lookup());
  REQUIRE(plan.errors.size() == 3);
  CHECK(plan.errors[1].find("instance 5") != std::string::npos);
  for (const auto& e : plan.errors) CHECK(e.find(kTokenB) == std::string::npos);
  CHECK(plan.added.size() == 1);  // the first 6 counts
}

TEST_CASE("apiUrl templates expand {first4} and allow no other placeholder") {
  CHECK(expandApiUrlTemplate("https://{first4}.api.green-api.com/", 1101000001) ==
        "https://1101.api.green-api.com");
  CHECK(expandApiUrlTemplate("http://127.0.0.1:9090", 1101000001) == "http://127.0.0.1:9090");
  CHECK(expandApiUrlTemplate("https://h/{first4}/{first4}", 123) == "https://h/123/123");
  CHECK_FALSE(validateApiUrlTemplate("https://{first4}.api.green-api.com"));
  CHECK(validateApiUrlTemplate("https://{id}.api.green-api.com"));
}
