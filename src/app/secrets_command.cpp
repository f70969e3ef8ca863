#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "app/command_table.hpp"
#include "app/database_lock.hpp"
#include "app/service_config.hpp"
#include "app/token_key.hpp"
#include "base/log.hpp"
#include "store/stored_tokens.hpp"

namespace greenfleet::app {

namespace {
const base::Log kLog{"app"};

// Re-seals every token under `next` in one transaction. With a key file, the file is replaced
// inside that transaction, just before COMMIT, keeping the old key in <file>.old:
//   crash before the rename      -> file and database both on the old key; nothing to do
//   crash after it, before COMMIT -> file on the new key, database on the old one; start-up
//                                    names <file>.old as the key that matches: mv it back
//   crash after COMMIT           -> both on the new key; <file>.old is left over, delete it
// A failed COMMIT moves <file>.old back at once.
std::int64_t rotate(store::Database& db, const store::TokenCipher& current,
                    const store::TokenCipher& next, const TokenKey& loaded,
                    const store::TokenCipher::Key& next_key) {
  store::StoredTokens tokens(db);
  if (loaded.from_env) return tokens.reseal(current, next, nullptr);
  const std::string& file = loaded.source;
  const std::string old = file + ".old";
  bool replaced = false;
  try {
    const auto count = tokens.reseal(current, next, [&] {
      ::unlink(old.c_str());
      createKeyFile(old, loaded.key);
      replaceKeyFile(file, next_key);
      replaced = true;
    });
    ::unlink(old.c_str());
    return count;
  } catch (...) {
    if (replaced) std::filesystem::rename(old, file);
    throw;
  }
}
}  // namespace

int runSecrets(const CommandArgs& args) {
  Flags flags("secrets",
              "'secrets rotate': re-encrypt every stored token under a new key in one "
              "transaction, then replace the key file (the old key is kept as <file>.old until "
              "the transaction commits). Refused while a server uses the database: stop it "
              "first.");
  addConfigFlags(flags);
  flags
      .option("new-key-file", "FILE",
              "the new key (64 hex digits); default: a new random key. Required when the "
              "current key comes from GREENFLEET_SECRETS_KEY")
      .positional("action", "rotate");
  if (!flags.parse(args)) return 0;
  if (flags.positionals().at(0) != "rotate") {
    throw UsageError(fmt::format("unknown action '{}'; use rotate", flags.positionals()[0]));
  }
  const auto config = loadConfig(flags);
  setupLogging(config);
  const std::string db_path = databasePath(config);
  if (!std::filesystem::exists(db_path)) {
    throw std::runtime_error(fmt::format("no database at {}", db_path));
  }
  const auto new_key_file = flags.get("new-key-file");
  const auto db = openMigratedDatabase(config);
  const DatabaseLock lock(db_path, DatabaseLock::Mode::exclusive);
  TokenKey loaded;
  const auto current = openTokenCipher(config, *db, &loaded);
  if (loaded.from_env && !new_key_file) {
    throw UsageError(fmt::format(
        "the current key comes from {}: pass the new key with --new-key-file", kSecretsKeyEnv));
  }
  const auto next_key =
      new_key_file ? readKeyFile(*new_key_file) : store::TokenCipher::generateKey();
  const store::TokenCipher next(next_key);
  if (next.keyId() == current->keyId()) {
    throw std::runtime_error(
        fmt::format("the new key (id {}) is the current key; nothing to rotate", next.keyId()));
  }
  const auto count = rotate(*db, *current, next, loaded, next_key);
  kLog.info("event=secrets_rotated tokens={} old_key_id={} new_key_id={}", count, current->keyId(),
            next.keyId());
  std::cout << fmt::format("re-encrypted {} token(s): key id {} -> {}\n", count, current->keyId(),
                           next.keyId());
  if (loaded.from_env) {
    std::cout << fmt::format("set {} to the key in {} before starting the server\n", kSecretsKeyEnv,
                             *new_key_file);
  } else {
    std::cout << fmt::format("key file {} replaced; back up the new key\n", loaded.source);
  }
  return 0;
}

}  // namespace greenfleet::app
