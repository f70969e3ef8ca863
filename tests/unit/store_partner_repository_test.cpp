#include <doctest/doctest.h>

#include <map>

#include <Poco/Data/Statement.h>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/migrator.hpp"
#include "store/partner_repository.hpp"
#include "store/stored_tokens.hpp"
#include "support/migrated_store.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using namespace Poco::Data::Keywords;

namespace {
const std::string kPartnerToken = "gac.02dff0c4fa944bc882bf207d379d9e3f0123456789";

struct Fixture : testing::MigratedStore {
  PartnerRepository partners{db, clock, cipher};

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

TEST_CASE("PartnerRepository seals the partner token in the file, bound to its key and its row") {
  Fixture f;
  const auto a = f.account();
  const std::string rotated = "gac.rotatedrotatedrotatedrotatedrotated0123456";
  const auto b = f.account("second");
  PartnerPatch patch;
  patch.token = rotated;
  REQUIRE(f.partners.update(b.id, patch).value());
  CHECK(f.partners.get(a.id, true)->token == kPartnerToken);
  CHECK(f.partners.get(b.id, true)->token == rotated);
  CHECK(f.partners.list().at(1).token_hint == "\u2026" + rotated.substr(rotated.size() - 4));
  const auto raw = f.rawFile();
  CHECK(raw.find(kPartnerToken) == std::string::npos);
  CHECK(raw.find(rotated) == std::string::npos);
  StoredTokens tokens(f.db);
  CHECK(tokens.countSealedBy(f.cipher.keyId()) == 2);
  CHECK_FALSE(tokens.hasClear());
  CHECK(tokens.sampleKeyId() == f.cipher.keyId());

  // Another key does not open it (never an empty token) ...
  const TokenCipher other(TokenCipher::generateKey());
  CHECK_THROWS_AS(PartnerRepository(f.db, f.clock, other).get(a.id, true), SecretsError);
  // ... nor does another row's ciphertext, nor an instance token sealed for the same id.
  Poco::Int64 from_id = b.id, to_id = a.id;
  {
    auto session = f.db.acquire();
    *session << "UPDATE partners SET partner_token = (SELECT partner_token FROM partners WHERE "
                "id = ?) WHERE id = ?",
        use(from_id), use(to_id), now;
  }
  CHECK_THROWS_WITH_AS(f.partners.get(a.id, true),
                       doctest::Contains("token of partner 1 does not decrypt"), SecretsError);
  std::string as_instance = f.cipher.seal(kPartnerToken, a.id);
  {
    auto session = f.db.acquire();
    *session << "UPDATE partners SET partner_token = ? WHERE id = ?", use(as_instance), use(to_id),
        now;
  }
  CHECK_THROWS_AS(f.partners.get(a.id), SecretsError);
}

TEST_CASE("partner tokens stored in clear before migration 0007 are sealed, then rotate") {
  testing::TempDir dir;
  const std::string clear = "gac.legacylegacylegacylegacylegacylegacy0123456";
  Database db{DatabaseOptions{.path = dir.file("greenfleet.db")}};
  Migrator migrator(db);
  REQUIRE(migrator.migrateTo(6) == std::vector<int>{1, 2, 3, 4, 5, 6});
  {
    // What a database from before 0007 holds: the partner token in clear, no key id column.
    auto session = db.acquire();
    std::string token = clear;
    *session << "INSERT INTO partners(name, api_url, partner_token, api_url_template, "
                "created_at, updated_at) VALUES ('old', 'http://127.0.0.1:9', ?, "
                "'http://127.0.0.1:9', 0, 0)",
        use(token), now;
  }
  CHECK(migrator.migrate() == std::vector<int>({7, 8}));  // 0008: webhook tokens
  base::ManualClock clock;
  const TokenCipher cipher(TokenCipher::generateKey());
  PartnerRepository partners(db, clock, cipher);
  CHECK(partners.get(1, true)->token == clear);  // a clear row reads as it is until sealed
  StoredTokens tokens(db);
  CHECK(tokens.hasClear());
  CHECK_FALSE(tokens.sampleKeyId());
  CHECK(tokens.sealClear(cipher) == 1);
  CHECK_FALSE(tokens.hasClear());
  CHECK(tokens.countSealedBy(cipher.keyId()) == 1);
  CHECK(partners.get(1, true)->token == clear);
  CHECK(testing::databaseBytes(db, dir.file("greenfleet.db")).find(clear) == std::string::npos);

  // `secrets rotate` re-seals partner tokens with the instance tokens.
  const TokenCipher next(TokenCipher::generateKey());
  CHECK(tokens.reseal(cipher, next, nullptr) == 1);
  CHECK(PartnerRepository(db, clock, next).get(1, true)->token == clear);
  CHECK_THROWS_AS(partners.get(1, true), SecretsError);
  CHECK(tokens.countSealedBy(next.keyId()) == 1);
  CHECK(testing::databaseBytes(db, dir.file("greenfleet.db")).find(clear) == std::string::npos);
}
