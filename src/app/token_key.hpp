#pragma once
// The key that seals tokens at rest: where it comes from (GREENFLEET_SECRETS_KEY, else the key
// file), creating the file on first start, and the start-up checks that turn a missing or
// wrong key into an error naming the file instead of empty tokens. Key file: 64 hex digits and
// a newline, mode 0600, never a symbolic link.

#include <memory>
#include <string>

#include "config/config.hpp"
#include "store/database.hpp"
#include "store/token_cipher.hpp"

namespace greenfleet::app {

inline constexpr const char* kSecretsKeyEnv = "GREENFLEET_SECRETS_KEY";

struct TokenKey {
  store::TokenCipher::Key key{};
  std::string source;  // "GREENFLEET_SECRETS_KEY" or the key file's path
  bool from_env = false;
};

// Reads a key file. Refuses a symbolic link or anything but a regular file; a file readable by
// others is tightened to 0600. Throws store::SecretsError naming the file.
store::TokenCipher::Key readKeyFile(const std::string& path);
// Creates `path` with `key`: O_EXCL|O_NOFOLLOW, 0600, fsync of the file and its directory.
void createKeyFile(const std::string& path, const store::TokenCipher::Key& key);
// Replaces `path` atomically: writes `path`.tmp, fsyncs it, renames it over `path`, fsyncs the
// directory. A crash leaves either the old or the new key in `path`, never a torn one.
void replaceKeyFile(const std::string& path, const store::TokenCipher::Key& key);

// Start-up of every command that reads or writes tokens: loads the key (GREENFLEET_SECRETS_KEY,
// else the key file, created when absent and no stored token is sealed yet), checks that it is
// the key that sealed the stored tokens, and seals the rows left in clear by migration 0004.
// Throws store::SecretsError: the key file is missing while tokens are sealed, the key does not
// match, the key text is malformed.
std::unique_ptr<store::TokenCipher> openTokenCipher(const config::Config& config,
                                                    store::Database& db,
                                                    TokenKey* loaded = nullptr);

// For readers that must not change anything (`instances export --with-tokens --db`): the key
// from GREENFLEET_SECRETS_KEY or the key file, without creating one (nullptr when there is
// none) and without touching the database. Throws store::SecretsError for a malformed key.
std::unique_ptr<store::TokenCipher> loadTokenCipher(const config::Config& config);

}  // namespace greenfleet::app
