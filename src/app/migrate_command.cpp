#include <iostream>

#include "app/command_table.hpp"
#include "app/database_lock.hpp"
#include "app/service_config.hpp"
#include "app/token_key.hpp"
#include "store/migrator.hpp"

namespace greenfleet::app {

int runMigrate(const CommandArgs& args) {
  Flags flags("migrate",
              "Apply pending database migrations (and encrypt tokens still stored in clear), then "
              "exit. 'serve' does this too.");
  addConfigFlags(flags);
  flags.toggle("status", "only print the current and latest schema versions");
  const auto config = parseAndConfigure(flags, args);
  if (!config) return 0;
  store::Database db(databaseOptions(*config));
  store::Migrator migrator(db);
  if (flags.isSet("status")) {
    std::cout << "database " << databasePath(*config) << ": schema version "
              << migrator.currentVersion() << ", latest " << store::Migrator::latestVersion()
              << "\n";
    return 0;
  }
  const auto applied = migrator.migrate();
  const DatabaseLock lock(databasePath(*config), DatabaseLock::Mode::shared);
  // Migration 0004's second half: tokens still in clear are sealed (the key is made if none).
  openTokenCipher(*config, db);
  std::cout << "database " << databasePath(*config) << ": applied " << applied.size()
            << " migration(s); schema version " << migrator.currentVersion() << "\n";
  return 0;
}

}  // namespace greenfleet::app
