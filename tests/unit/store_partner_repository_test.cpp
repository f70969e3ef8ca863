#include <doctest/doctest.h>

#include <map>

#include "fleet/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/partner_repository.hpp"
#include "store/stored_tokens.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet;
using namespace greenfleet::store;

namespace {
const std::string kPartnerToken = "gac.02dff0c4fa944bc882bf207d379d9e3f0123456789";

struct Fixture {
  testing::TempDir dir;
  Database db{DatabaseOptions{.path = dir.file("greenfleet.db")}};
  fleet::ManualClock clock;
  TokenCipher cipher{TokenCipher::generateKey()};
  PartnerRepository partners{db, clock, cipher};
  InstanceRepository instances{db, clock, cipher};
  Fixture() { Migrator(db).migrate(); }

  PartnerAccount account(const std::string& name = "main") {
    PartnerAccount a;
    a.name = name;
    a.api_url = "http://127.0.0.1:9";
    a.token = kPartnerToken;
    a.tags = {"partner"};
    a.api_url_template = "http://127.0.0.1:9";
    return partners.create(a).value();
  }
};

fleet::RegisteredInstance registered(std::int64_t id, const std::string& token) {
  fleet::RegisteredInstance in;
  in.id = id;
  in.api_url = "http://127.0.0.1:9";
  in.token = token;
  in.tags = {"partner"};
  return in;
}
}  // namespace

TEST_CASE("PartnerRepository keeps the partner token write-only and names unique") {
  Fixture f;
  const auto a = f.account();
  CHECK(a.token.empty());
  CHECK(a.token_hint ==
        "\u2026"
        "6789");
  CHECK(f.partners.get(a.id, true)->token == kPartnerToken);
  CHECK(f.partners.get(a.id)->token.empty());
  PartnerAccount dup = a;
  dup.token = kPartnerToken;
  CHECK_FALSE(f.partners.create(dup));
  PartnerPatch patch;
  patch.tags = std::vector<std::string>{"x"};
  const auto updated = f.partners.update(a.id, patch);
  REQUIRE(updated);
  REQUIRE(updated.value());
  CHECK(updated.value()->tags == std::vector<std::string>{"x"});
  CHECK_FALSE(f.partners.update(999, patch).value());
  CHECK(f.partners.list().size() == 1);
}

TEST_CASE("PartnerRepository applies a sync in one transaction and leaves hand registrations") {
  Fixture f;
  const auto a = f.account();
  const std::string token_a(50, 'a'), token_b(50, 'b');
  REQUIRE(f.instances.create({registered(5, token_a)}));  // by hand

  fleet::ReconciliationPlan plan;
  plan.added = {registered(1, token_a), registered(2, token_a), registered(5, token_b)};
  fleet::PartnerSyncResult result;
  result.ok = true;
  result.added = 3;
  result.skipped = {{9, "telegram"}};
  auto inserted = f.partners.applySync(a.id, plan, result);
  CHECK(inserted == std::vector<std::int64_t>{1, 2});
  CHECK(f.instances.get(5)->instance.token == token_a);  // the hand registration won
  auto known = f.partners.known({1, 2, 5, 77});
  CHECK(known.size() == 3);
  CHECK(known.at(1).partner_id == a.id);
  CHECK_FALSE(known.at(5).partner_id);
  // Sealed in the file like every registration, opened for the comparison with the listing.
  CHECK(known.at(1).token == token_a);
  CHECK(StoredTokens(f.db).countByKeyId() ==
        std::map<std::string, std::int64_t>{{f.cipher.keyId(), 3}});

  fleet::ReconciliationPlan second;
  second.token_changes = {{1, token_b}, {5, token_b}};
  second.expired = {2, 5};
  f.partners.applySync(a.id, second, result);
  CHECK(f.instances.get(1)->instance.token == token_b);
  CHECK(f.partners.known({1}).at(1).token == token_b);
  CHECK(StoredTokens(f.db).countByKeyId() ==
        std::map<std::string, std::int64_t>{{f.cipher.keyId(), 3}});
  CHECK(f.instances.get(5)->instance.token == token_a);  // not ours: untouched
  CHECK(f.instances.get(5)->instance.enabled);
  const auto expired = f.instances.get(2);
  CHECK_FALSE(expired->instance.enabled);
  CHECK(expired->status.attention == "expired");
  CHECK(f.partners.known({2}).at(2).expired);

  const auto stored = f.partners.get(a.id);
  CHECK(stored->instances == 2);
  CHECK(stored->expired_instances == 1);
  REQUIRE(stored->last_sync);
  CHECK(stored->last_sync->ok);
  REQUIRE(stored->last_sync->skipped.size() == 1);
  CHECK(stored->last_sync->skipped[0].type == "telegram");

  fleet::ReconciliationPlan third;
  third.restored = {{2, token_b}};
  f.partners.applySync(a.id, third, result);
  CHECK(f.instances.get(2)->instance.enabled);
  CHECK(f.instances.get(2)->status.attention == "none");

  // Deleting the account leaves its instances registered, now as if by hand.
  CHECK(f.partners.remove(a.id));
  CHECK_FALSE(f.partners.known({1}).at(1).partner_id);
  CHECK(f.instances.count() == 3);
}
