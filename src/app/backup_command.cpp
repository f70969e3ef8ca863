#include <iostream>

#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/service_config.hpp"
#include "store/database_backup.hpp"

namespace greenfleet::app {

int runBackup(const CommandArgs& args) {
  Flags flags("backup",
              "Copy the database to FILE while the server runs (SQLite online backup: one "
              "consistent snapshot). FILE is created 0600 and must not exist. The token key is "
              "not in the copy: back up secret.key (or GREENFLEET_SECRETS_KEY) separately.");
  addConfigFlags(flags);
  flags.positional("file", "the backup file to create");
  const auto config = parseAndConfigure(flags, args);
  if (!config) return 0;
  const std::string source = databasePath(*config);
  const std::string& target = flags.positionals().at(0);
  const auto result = store::backupDatabase(
      source, target, static_cast<int>(config->getInt("db.busy_timeout_ms", 0, 600000)));
  std::cout << fmt::format(
      "backed up {} to {} ({} pages, {} bytes); the token key is not in it: "
      "keep a copy of {} apart\n",
      source, target, result.pages, result.bytes, secretsKeyFile(*config));
  return 0;
}

}  // namespace greenfleet::app
