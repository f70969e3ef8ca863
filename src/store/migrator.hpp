#pragma once
// Migrator: applies the SQL files of migrations/ (embedded in the binary) in order, each in one
// transaction that also records schema_migrations and PRAGMA user_version. Forward-only; refuses
// a database whose version is newer than this binary knows. Not thread-safe; run at start.

#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"

namespace greenfleet::store {

struct Migration {
  int version = 0;
  std::string name;
  std::string_view sql;
};

class DatabaseTooNewError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Migrator {
 public:
  explicit Migrator(Database& db);
  // The embedded migrations, sorted by version.
  static std::vector<Migration> known();
  static int latestVersion();

  int currentVersion();
  // Applies what is pending; returns the versions applied. Throws DatabaseTooNewError.
  std::vector<int> migrate();
  // Applies the pending migrations up to `version` only (tests build old-schema databases).
  std::vector<int> migrateTo(int version);

 private:
  Database& db_;
};

}  // namespace greenfleet::store
