#pragma once
// ApiKeyRepository: admin API keys. A key is 32 random bytes shown once as "gf_<64 hex>"; only
// its SHA-256 is stored (the key has full entropy, so a slow password hash adds nothing).
// Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fleet/clock.hpp"
#include "store/database.hpp"

namespace greenfleet::store {

enum class Role { read, admin };
std::string_view roleName(Role role);
std::optional<Role> parseRole(std::string_view name);

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::read;
  fleet::WallTime created_at{};
  std::optional<fleet::WallTime> last_used_at;
  std::optional<fleet::WallTime> revoked_at;
};

struct CreatedApiKey {
  ApiKey key;
  std::string secret;  // the plaintext key: shown once, never stored
};

class ApiKeyRepository {
 public:
  ApiKeyRepository(Database& db, const fleet::Clock& clock);

  CreatedApiKey create(const std::string& name, Role role);
  std::vector<ApiKey> list();
  // Revokes by id; false when no such active key.
  bool revoke(std::int64_t id);
  std::int64_t countActive();
  // The active key matching `secret`, touching last_used_at at most once a minute.
  std::optional<ApiKey> authenticate(const std::string& secret);

  static std::string hashSecret(const std::string& secret);

 private:
  Database& db_;
  const fleet::Clock& clock_;
};

}  // namespace greenfleet::store
