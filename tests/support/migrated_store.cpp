#include "support/migrated_store.hpp"

#include <doctest/doctest.h>

#include <Poco/Data/Session.h>

#include "store/migrator.hpp"
#include "support/file_bytes.hpp"

namespace greenfleet::testing {

MigratedStore::MigratedStore() { store::Migrator(db).migrate(); }

std::string MigratedStore::sameToken(std::int64_t) {
  return "1f2485e80f474293b935f77d78c64e76fa4bdceb417a4998a4";
}

void MigratedStore::addInstances(const std::vector<std::int64_t>& ids,
                                 const std::function<std::string(std::int64_t)>& token) {
  std::vector<fleet::RegisteredInstance> batch;
  for (const auto id : ids) {
    fleet::RegisteredInstance in;
    in.id = id;
    in.api_url = "http://127.0.0.1:9";
    in.token = token(id);
    in.name = "shop " + std::to_string(id);
    batch.push_back(in);
  }
  REQUIRE(instances.create(std::move(batch)).has_value());
}

std::string databaseBytes(store::Database& db, const std::string& path) {
  using namespace Poco::Data::Keywords;
  auto session = db.acquire();
  *session << "PRAGMA wal_checkpoint(TRUNCATE)", now;
  return fileBytes(path) + fileBytes(path + "-wal");
}

}  // namespace greenfleet::testing
