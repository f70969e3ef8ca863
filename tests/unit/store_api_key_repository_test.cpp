#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "base/clock.hpp"
#include "store/api_key_repository.hpp"
#include "store/database.hpp"
#include "store/migrator.hpp"
#include "support/temp_dir.hpp"

using namespace greenfleet;
using namespace greenfleet::store;
using namespace std::chrono_literals;

namespace {

// `server` answers requests from its cache; `cli` stands for the `keys` command in another
// process: it shares the SQLite file, not the cache.
struct KeyFixture {
  testing::TempDir dir;
  Database db{DatabaseOptions{.path = dir.file("greenfleet.db")}};
  base::ManualClock clock;
  ApiKeyRepository server{db, clock};
  ApiKeyRepository cli{db, clock};

  KeyFixture() { Migrator(db).migrate(); }
};

}  // namespace

TEST_CASE("a key revoked elsewhere is re-checked at most once a second and refused within one") {
  KeyFixture f;
  const auto created = f.cli.create("dashboard", Role::read);
  REQUIRE(f.server.authenticate(created.secret).has_value());  // loads the map

  REQUIRE(f.cli.revoke(created.key.id));
  f.clock.advance(999ms);
  // Still answered from memory: no re-check within the second.
  const auto cached = f.server.authenticate(created.secret);
  REQUIRE(cached.has_value());
  CHECK(cached->name == "dashboard");
  f.clock.advance(1ms);
  CHECK_FALSE(f.server.authenticate(created.secret).has_value());
}

TEST_CASE("a key created elsewhere works at once and an unknown key is refused") {
  KeyFixture f;
  const auto first = f.cli.create("first", Role::admin);
  REQUIRE(f.server.authenticate(first.secret).has_value());
  const auto second = f.cli.create("second", Role::read);
  const auto key = f.server.authenticate(second.secret);
  REQUIRE(key.has_value());
  CHECK(key->id == second.key.id);
  CHECK(key->role == Role::read);
  CHECK_FALSE(f.server.authenticate("gf_" + std::string(64, '0')).has_value());
}

TEST_CASE("a key revoked in this process is refused at once") {
  KeyFixture f;
  const auto created = f.server.create("ops", Role::admin);
  REQUIRE(f.server.authenticate(created.secret).has_value());
  REQUIRE(f.server.revoke(created.key.id));
  CHECK_FALSE(f.server.authenticate(created.secret).has_value());
}

TEST_CASE("last_used_at is written with a reload, not per request") {
  KeyFixture f;
  const auto created = f.cli.create("dashboard", Role::read);
  const auto used_at = f.clock.wallNow();
  REQUIRE(f.server.authenticate(created.secret).has_value());
  // Not yet written: the use is noted in memory only.
  CHECK_FALSE(f.cli.list().at(0).last_used_at.has_value());

  f.clock.advance(1s);
  REQUIRE(f.server.authenticate(created.secret).has_value());  // reload writes the first use
  CHECK(f.cli.list().at(0).last_used_at == used_at);

  // Uses within a minute of the stored one are not written again.
  f.clock.advance(30s);
  REQUIRE(f.server.authenticate(created.secret).has_value());
  f.clock.advance(1s);
  REQUIRE(f.server.authenticate(created.secret).has_value());
  CHECK(f.cli.list().at(0).last_used_at == used_at);
}
