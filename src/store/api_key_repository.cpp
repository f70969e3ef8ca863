#include "store/api_key_repository.hpp"

#include <sys/random.h>

#include <array>
#include <stdexcept>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include "fleet/time_format.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

namespace {
constexpr auto kTouchEvery = std::chrono::minutes(1);

std::string randomHex(std::size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  std::size_t got = 0;
  while (got < bytes) {
    const ssize_t n = ::getrandom(buf.data() + got, bytes - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<std::size_t>(n);
  }
  return Poco::DigestEngine::digestToHex(buf);
}

std::optional<fleet::WallTime> optTime(const Poco::Dynamic::Var& v) {
  if (v.isEmpty()) return std::nullopt;
  return fleet::fromUnixMillis(v.convert<Poco::Int64>());
}
}  // namespace

std::string_view roleName(Role role) { return role == Role::admin ? "admin" : "read"; }

std::optional<Role> parseRole(std::string_view name) {
  if (name == "admin") return Role::admin;
  if (name == "read") return Role::read;
  return std::nullopt;
}

ApiKeyRepository::ApiKeyRepository(Database& db, const fleet::Clock& clock)
    : db_(db), clock_(clock) {}

std::string ApiKeyRepository::hashSecret(const std::string& secret) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(secret);
  return Poco::DigestEngine::digestToHex(sha.digest());
}

CreatedApiKey ApiKeyRepository::create(const std::string& name, Role role) {
  CreatedApiKey out;
  out.secret = "gf_" + randomHex(32);
  out.key.name = name;
  out.key.role = role;
  out.key.created_at = clock_.wallNow();
  std::string hash = hashSecret(out.secret);
  std::string role_text(roleName(role));
  std::string key_name = name;
  Poco::Int64 created = fleet::toUnixMillis(out.key.created_at);
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  *session << "INSERT INTO api_keys(name, role, hash, created_at) VALUES (?, ?, ?, ?)",
      use(key_name), use(role_text), use(hash), use(created), now;
  Poco::Int64 id = 0;
  *session << "SELECT last_insert_rowid()", into(id), now;
  tx.commit();
  out.key.id = id;
  return out;
}

std::vector<ApiKey> ApiKeyRepository::list() {
  auto session = db_.acquire();
  Poco::Data::Statement stmt(*session);
  stmt << "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id";
  stmt.execute();
  Poco::Data::RecordSet rs(stmt);
  std::vector<ApiKey> out;
  for (bool more = rs.moveFirst(); more; more = rs.moveNext()) {
    ApiKey k;
    k.id = rs.value(0).convert<Poco::Int64>();
    k.name = rs.value(1).convert<std::string>();
    k.role = parseRole(rs.value(2).convert<std::string>()).value_or(Role::read);
    k.created_at = fleet::fromUnixMillis(rs.value(3).convert<Poco::Int64>());
    k.last_used_at = optTime(rs.value(4));
    k.revoked_at = optTime(rs.value(5));
    out.push_back(std::move(k));
  }
  return out;
}

bool ApiKeyRepository::revoke(std::int64_t id) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 at = fleet::toUnixMillis(clock_.wallNow());
  Poco::Int64 key = id;
  Poco::Data::Statement stmt(*session);
  stmt << "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", use(at),
      use(key);
  const bool changed = stmt.execute() > 0;
  tx.commit();
  return changed;
}

std::int64_t ApiKeyRepository::countActive() {
  auto session = db_.acquire();
  Poco::Int64 n = 0;
  *session << "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", into(n), now;
  return n;
}

std::optional<ApiKey> ApiKeyRepository::authenticate(const std::string& secret) {
  std::string hash = hashSecret(secret);
  auto session = db_.acquire();
  Poco::Data::Statement stmt(*session);
  stmt << "SELECT id, name, role, created_at, last_used_at FROM api_keys "
          "WHERE hash = ? AND revoked_at IS NULL",
      use(hash);
  stmt.execute();
  Poco::Data::RecordSet rs(stmt);
  if (rs.rowCount() == 0) return std::nullopt;
  ApiKey k;
  k.id = rs.value(0, 0).convert<Poco::Int64>();
  k.name = rs.value(1, 0).convert<std::string>();
  k.role = parseRole(rs.value(2, 0).convert<std::string>()).value_or(Role::read);
  k.created_at = fleet::fromUnixMillis(rs.value(3, 0).convert<Poco::Int64>());
  k.last_used_at = optTime(rs.value(4, 0));
  const auto now_wall = clock_.wallNow();
  if (!k.last_used_at || now_wall - *k.last_used_at >= kTouchEvery) {
    Poco::Int64 at = fleet::toUnixMillis(now_wall);
    Poco::Int64 id = k.id;
    // Best effort: a busy database must not fail the request being authenticated.
    try {
      *session << "UPDATE api_keys SET last_used_at = ? WHERE id = ?", use(at), use(id), now;
      k.last_used_at = now_wall;
    } catch (const Poco::Exception&) {
    }
  }
  return k;
}

}  // namespace greenfleet::store
