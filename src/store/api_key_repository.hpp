#pragma once
// ApiKeyRepository: admin API keys. A key is 32 random bytes shown once as "gf_<64 hex>"; only
// its SHA-256 is stored (the key has full entropy, so a slow password hash adds nothing).
// authenticate() answers from an in-memory map hash → key. The map is reloaded from SQLite at
// most once a second (steady clock), so a key revoked or changed by another process (the `keys`
// command) stops working within a second; an unknown hash is looked up at once (one indexed
// query, what every request cost before), so a key created elsewhere works at once. last_used_at
// is kept in memory and written with the reload, at most once a minute per key.
// Thread-safe: one mutex guards the map; the reload runs under it on the request that finds the
// map a second old.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "store/database.hpp"

namespace greenfleet::store {

enum class Role { read, admin };
std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::read;
  base::WallTime created_at{};
  std::optional<base::WallTime> last_used_at;
  std::optional<base::WallTime> revoked_at;
};

struct CreatedApiKey {
  ApiKey key;
  std::string secret;  // the plaintext key: shown once, never stored
};

class ApiKeyRepository {
 public:
  ApiKeyRepository(Database& db, const base::Clock& clock);
  ~ApiKeyRepository();  // writes pending last_used_at
  ApiKeyRepository(const ApiKeyRepository&) = delete;
  ApiKeyRepository& operator=(const ApiKeyRepository&) = delete;

  CreatedApiKey create(const std::string& name, Role role);
  std::vector<ApiKey> list();
  // Revokes by id; false when no such active key.
  bool revoke(std::int64_t id);
  std::int64_t countActive();
  // The active key matching `secret` (from memory, at most a second old), noting its use.
  std::optional<ApiKey> authenticate(const std::string& secret);

  static std::string hashSecret(const std::string& secret);
  // How often the key map is re-read from SQLite while requests keep arriving.
  static constexpr auto kRecheckEvery = std::chrono::seconds(1);

 private:
  struct Cached {
    ApiKey key;
    std::optional<base::WallTime> stored_last_used;  // as in SQLite
  };
  void reloadLocked(base::SteadyTime now);
  void flushTouchesLocked();
  std::optional<Cached> lookupLocked(const std::string& hash);

  Database& db_;
  const base::Clock& clock_;
  std::mutex mutex_;  // guards the members below
  std::unordered_map<std::string, Cached> by_hash_;
  std::optional<base::SteadyTime> loaded_at_;  // nullopt: reload on next use
};

}  // namespace greenfleet::store
