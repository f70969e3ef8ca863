#include "app/token_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <openssl/crypto.h>

#include "app/service_config.hpp"
#include "base/log.hpp"
#include "store/stored_tokens.hpp"

namespace greenfleet::app {

namespace {
const base::Log kLog{"app"};

using store::SecretsError;
using Key = store::TokenCipher::Key;

// 1234567 -> "1,234,567"
std::string groupThousands(std::int64_t n) {
  std::string digits = std::to_string(n);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(at, ",");
  return digits;
}

void fsyncDirectoryOf(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  const int fd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void writeKey(int fd, const std::string& path, const Key& key) {
  std::string text = store::TokenCipher::formatKey(key) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  const int error = errno;
  OPENSSL_cleanse(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    throw std::system_error(error, std::generic_category(), "secrets: cannot write " + path);
  }
}

// Opens `path` for a new key: never through a link, never over an existing file.
int createExclusive(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "secrets: cannot create " + path);
  }
  return fd;
}

bool keyFileHolds(const std::string& path, const std::string& key_id) {
  try {
    return std::filesystem::exists(path) && store::TokenCipher(readKeyFile(path)).keyId() == key_id;
  } catch (const std::exception&) {
    return false;
  }
}

// The key that sealed `count` rows is not the loaded one. A rotation that stopped between
// replacing the key file and committing leaves the old key in <file>.old: name it.
[[noreturn]] void throwMismatch(const TokenKey& loaded, const std::string& loaded_id,
                                const std::string& stored_id, std::int64_t count) {
  std::string message = fmt::format(
      "secrets: key in {} (id {}) does not match the key (id {}) that encrypted {} tokens",
      loaded.source, loaded_id, stored_id, groupThousands(count));
  const std::string old = loaded.source + ".old";
  if (!loaded.from_env && keyFileHolds(old, stored_id)) {
    message += fmt::format(
        "; {} holds that key: a 'secrets rotate' stopped before its transaction committed, "
        "restore it with: mv {} {}",
        old, old, loaded.source);
  } else {
    message += "; restore the key that belongs to this database";
  }
  throw SecretsError(message);
}

// Fills `loaded` from GREENFLEET_SECRETS_KEY, else from the key file; false when neither exists
// (`loaded.source` then names the key file).
bool loadExistingKey(const config::Config& config, TokenKey& loaded) {
  if (const char* env = std::getenv(kSecretsKeyEnv); env != nullptr && *env != '\0') {
    const auto key = store::TokenCipher::parseKey(env);
    if (!key) throw SecretsError(fmt::format("secrets: {} must be 64 hex digits", kSecretsKeyEnv));
    loaded.key = *key;
    loaded.source = kSecretsKeyEnv;
    loaded.from_env = true;
    return true;
  }
  loaded.source = secretsKeyFile(config);
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(loaded.source, ec);
  if (status.type() == std::filesystem::file_type::not_found) return false;
  loaded.key = readKeyFile(loaded.source);
  return true;
}

TokenKey loadOrCreateKey(const config::Config& config, store::StoredTokens& tokens) {
  TokenKey loaded;
  if (loadExistingKey(config, loaded)) return loaded;
  // No key yet. Sealed rows without their key would be lost for good: never make a new key
  // over them.
  if (const auto sealed_by = tokens.sampleKeyId()) {
    throw SecretsError(fmt::format(
        "secrets: key file {} is missing but {} tokens in the database are encrypted (key id "
        "{}); restore the key file from your backup (or set {}) — a new key could not decrypt "
        "them",
        loaded.source, groupThousands(tokens.countSealedBy(*sealed_by)), *sealed_by,
        kSecretsKeyEnv));
  }
  loaded.key = store::TokenCipher::generateKey();
  createKeyFile(loaded.source, loaded.key);
  kLog.info("event=secrets_key_created file={}", loaded.source);
  return loaded;
}
}  // namespace

Key readKeyFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      throw SecretsError(
          fmt::format("secrets: key file {} is a symbolic link; point "
                      "secrets.key_file at the real file",
                      path));
    }
    throw std::system_error(errno, std::generic_category(),
                            "secrets: cannot read key file " + path);
  }
  struct stat st {};
  std::string text(256, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    if ((st.st_mode & 077) != 0) {
      kLog.warn("event=secrets_key_mode_fixed file={} mode=0600", path);
      ::fchmod(fd, 0600);
    }
    n = ::read(fd, text.data(), text.size());
  }
  ::close(fd);
  if (!S_ISREG(st.st_mode)) {
    throw SecretsError(fmt::format("secrets: key file {} is not a regular file", path));
  }
  text.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  const auto key = store::TokenCipher::parseKey(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) {
    throw SecretsError(
        fmt::format("secrets: key file {} must hold 64 hex digits (a 256-bit key)", path));
  }
  return *key;
}

void createKeyFile(const std::string& path, const Key& key) {
  writeKey(createExclusive(path), path, key);
  fsyncDirectoryOf(path);
}

void replaceKeyFile(const std::string& path, const Key& key) {
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover (or planted) temp file or link is removed, not followed
  writeKey(createExclusive(tmp), tmp, key);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(error, std::generic_category(), "secrets: cannot replace " + path);
  }
  fsyncDirectoryOf(path);
}

std::unique_ptr<store::TokenCipher> loadTokenCipher(const config::Config& config) {
  TokenKey loaded;
  if (!loadExistingKey(config, loaded)) return nullptr;
  return std::make_unique<store::TokenCipher>(loaded.key);
}

std::unique_ptr<store::TokenCipher> openTokenCipher(const config::Config& config,
                                                    store::Database& db, TokenKey* loaded_out) {
  store::StoredTokens tokens(db);
  const TokenKey loaded = loadOrCreateKey(config, tokens);
  auto cipher = std::make_unique<store::TokenCipher>(loaded.key);
  // A row sealed by yet another key (a hand-edited database) fails when it is read.
  if (const auto stored_id = tokens.sampleKeyId(); stored_id && *stored_id != cipher->keyId()) {
    throwMismatch(loaded, cipher->keyId(), *stored_id, tokens.countSealedBy(*stored_id));
  }
  if (tokens.hasClear()) {
    const auto sealed = tokens.sealClear(*cipher);
    kLog.info("event=tokens_encrypted count={} key_id={}", sealed, cipher->keyId());
  }
  if (loaded_out != nullptr) *loaded_out = loaded;
  return cipher;
}

}  // namespace greenfleet::app
