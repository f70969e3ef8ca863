#include <doctest/doctest.h>

#include <set>
#include <string>

#include <Poco/Data/Session.h>

#include "store/database.hpp"
#include "store/migrator.hpp"
#include "store/scan_link_repository.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using namespace Poco::Data::Keywords;

namespace {

struct LinkFixture {
  testing::TempDir dir;
  Database db{DatabaseOptions{.path = dir.file("greenfleet.db")}};
  ScanLinkRepository links{db};

  LinkFixture() {
    Migrator(db).migrate();
    for (const int id : {1, 2}) {
      auto session = db.acquire();
      *session << "INSERT INTO instances(id, api_url, token, created_at, updated_at) "
                  "VALUES (?, 'http://127.0.0.1:1', 't', 0, 0)",
          bind(id), now;
    }
  }
  void stateEvent(std::int64_t id, std::int64_t at_ms, const std::string& to) {
    auto session = db.acquire();
    *session << "INSERT INTO state_events(id, at, to_state, source) VALUES (?, ?, ?, 'poll')",
        bind(id), bind(at_ms), bind(to), now;
  }
};

}  // namespace

TEST_CASE("a scan link token is 256 random bits in base64url, stored only as its SHA-256") {
  LinkFixture f;
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) {
    const auto c = f.links.create(1, "admin", 1000, 2000);
    CHECK(c.token.size() == 43);
    CHECK(c.token.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
          std::string::npos);
    CHECK(c.link.hint == c.token.substr(39));
    tokens.insert(c.token);
  }
  CHECK(tokens.size() == 20);
  const auto any = *tokens.begin();
  auto session = f.db.acquire();
  int plain = 0;
  std::string token = any;
  *session << "SELECT COUNT(*) FROM scan_links WHERE token_hash = ? OR hint = ?", use(token),
      bind(any), into(plain), now;
  CHECK(plain == 0);
  std::string hash = ScanLinkRepository::hashToken(any);
  int hashed = 0;
  *session << "SELECT COUNT(*) FROM scan_links WHERE token_hash = ?", use(hash), into(hashed), now;
  CHECK(hashed == 1);
  CHECK(hash.size() == 64);
}

TEST_CASE("a scan link is found by its token, listed while live, and ended once") {
  LinkFixture f;
  const auto a = f.links.create(1, "ops", 1000, 5000);
  const auto b = f.links.create(1, "ops", 1100, 1500);
  const auto other = f.links.create(2, "ops", 1200, 5000);

  const auto found = f.links.findByToken(a.token);
  REQUIRE(found.has_value());
  CHECK(found->id == a.link.id);
  CHECK(found->instance_id == 1);
  CHECK(found->created_by == "ops");
  CHECK(found->isLive(4999));
  CHECK_FALSE(found->isLive(5000));
  CHECK_FALSE(f.links.findByToken(a.token + "x").has_value());

  CHECK(f.links.live(1, 1400).size() == 2);
  CHECK(f.links.live(1, 1500).size() == 1);  // b expired

  CHECK(f.links.markOpened(a.link.id, 1300));
  CHECK_FALSE(f.links.markOpened(a.link.id, 1400));
  CHECK(*f.links.get(a.link.id)->opened_at_ms == 1300);

  CHECK_FALSE(f.links.end(2, a.link.id, "revoked", 1400));  // not instance 2's
  CHECK_FALSE(f.links.end(1, b.link.id, "revoked", 1600));  // expired already
  CHECK(f.links.end(1, a.link.id, "revoked", 1400));
  CHECK_FALSE(f.links.end(1, a.link.id, "revoked", 1401));
  const auto ended = f.links.get(a.link.id);
  CHECK(*ended->ended_at_ms == 1400);
  CHECK(*ended->end_reason == "revoked");
  const auto still = f.links.live(1, 1400);
  REQUIRE(still.size() == 1);
  CHECK(still[0].id == b.link.id);

  const auto all = f.links.endAll(2, "authorized", 1500);
  REQUIRE(all.size() == 1);
  CHECK(all[0].id == other.link.id);
  CHECK(*f.links.get(other.link.id)->end_reason == "authorized");
}

TEST_CASE("authorizedSince reads the event log from a link's creation on") {
  LinkFixture f;
  f.stateEvent(1, 900, "authorized");
  f.stateEvent(1, 1500, "notAuthorized");
  f.stateEvent(2, 2000, "authorized");
  CHECK_FALSE(f.links.authorizedSince(1, 1000));
  CHECK(f.links.authorizedSince(1, 900));
  CHECK(f.links.authorizedSince(2, 1000));
  CHECK_FALSE(f.links.authorizedSince(2, 2001));
}

TEST_CASE("deleting an instance deletes its scan links") {
  LinkFixture f;
  const auto c = f.links.create(1, "ops", 1000, 5000);
  {
    auto session = f.db.acquire();
    *session << "DELETE FROM instances WHERE id = 1", now;
  }
  CHECK_FALSE(f.links.findByToken(c.token).has_value());
}

TEST_CASE("pruning drops links that ended or expired before the cutoff, never live ones") {
  LinkFixture f;
  const auto expired = f.links.create(1, "ops", 1000, 2000);
  const auto revoked = f.links.create(1, "ops", 1000, 9000);
  const auto live = f.links.create(1, "ops", 1000, 9000);
  REQUIRE(f.links.end(1, revoked.link.id, "revoked", 2500));
  CHECK(f.links.pruneOlderThan(2400) == 1);
  CHECK_FALSE(f.links.get(expired.link.id).has_value());
  CHECK(f.links.pruneOlderThan(3000) == 1);
  CHECK_FALSE(f.links.get(revoked.link.id).has_value());
  CHECK(f.links.get(live.link.id).has_value());
}
