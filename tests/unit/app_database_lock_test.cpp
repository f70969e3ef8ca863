#include <doctest/doctest.h>

#include <optional>

#include "app/database_lock.hpp"
#include "support/temp_dir.hpp"

using greenfleet::app::DatabaseLock;

TEST_CASE("DatabaseLock: servers share the database, a key rotation needs it alone") {
  greenfleet::testing::TempDir dir;
  const std::string db = dir.file("greenfleet.db");
  {
    const DatabaseLock server(db, DatabaseLock::Mode::shared);
    const DatabaseLock second_server(db, DatabaseLock::Mode::shared);
    CHECK_THROWS_WITH(DatabaseLock(db, DatabaseLock::Mode::exclusive),
                      doctest::Contains("stop it before rotating the key"));
  }
  std::optional<DatabaseLock> rotation;
  rotation.emplace(db, DatabaseLock::Mode::exclusive);
  CHECK_THROWS_WITH(DatabaseLock(db, DatabaseLock::Mode::shared),
                    doctest::Contains("is being re-keyed by 'greenfleet secrets rotate'"));
  rotation.reset();
  CHECK_NOTHROW(DatabaseLock(db, DatabaseLock::Mode::shared));
}
