#pragma once
// MigratedStore: what a store test starts from — a fresh SQLite file in its own directory,
// migrated, with a manual clock, a token cipher under a new key and the instance repository.
// Test fixtures derive from it and add the repositories they exercise.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/token_cipher.hpp"
#include "support/temp_dir.hpp"

namespace greenfleet::testing {

// The database file at `path` and its WAL after a checkpoint, as bytes: where no clear token may
// be found.
std::string databaseBytes(store::Database& db, const std::string& path);

struct MigratedStore {
  TempDir dir;
  store::DatabaseOptions options{.path = dir.file("greenfleet.db")};
  store::Database db{options};
  base::ManualClock clock;
  store::TokenCipher cipher{store::TokenCipher::generateKey()};
  store::InstanceRepository instances{db, clock, cipher};

  MigratedStore();

  // A well-formed apiTokenInstance, the same for every instance unless a test needs them apart.
  static std::string sameToken(std::int64_t id);
  // Registers one instance per id in one batch: apiUrl a closed loopback port, name "shop <id>",
  // token `token(id)`.
  void addInstances(const std::vector<std::int64_t>& ids,
                    const std::function<std::string(std::int64_t)>& token = sameToken);
  std::string rawFile() { return databaseBytes(db, options.path); }
};

}  // namespace greenfleet::testing
