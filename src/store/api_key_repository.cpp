#include "store/api_key_repository.hpp"

#include <sys/random.h>

#include <array>
#include <stdexcept>

#include <Poco/Data/RecordSet.h>
#include <Poco/Data/Statement.h>
#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include "base/log.hpp"
#include "base/time_format.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

namespace {
const base::Log kLog{"store"};
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

std::optional<base::WallTime> optTime(const Poco::Dynamic::Var& v) {
  if (v.isEmpty()) return std::nullopt;
  return base::fromUnixMillis(v.convert<Poco::Int64>());
}

// Columns id, name, role, created_at, last_used_at of `row`.
ApiKey keyFromRow(Poco::Data::RecordSet& rs, std::size_t row) {
  ApiKey k;
  k.id = rs.value(0, row).convert<Poco::Int64>();
  k.name = rs.value(1, row).convert<std::string>();
  k.role = parseRole(rs.value(2, row).convert<std::string>()).value_or(Role::read);
  k.created_at = base::fromUnixMillis(rs.value(3, row).convert<Poco::Int64>());
  k.last_used_at = optTime(rs.value(4, row));
  return k;
}
}  // namespace

std::string_view roleName(Role role) { return role == Role::admin ? "admin" : "read"; }

std::optional<Role> parseRole(std::string_view name) {
  if (name == "admin") return Role::admin;
  if (name == "read") return Role::read;
  return std::nullopt;
}

ApiKeyRepository::ApiKeyRepository(Database& db, const base::Clock& clock)
    : db_(db), clock_(clock) {}

ApiKeyRepository::~ApiKeyRepository() {
  std::lock_guard lock(mutex_);
  flushTouchesLocked();
}

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
  Poco::Int64 created = base::toUnixMillis(out.key.created_at);
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
  {
    std::lock_guard lock(mutex_);
    flushTouchesLocked();
  }
  auto session = db_.acquire();
  Poco::Data::Statement stmt(*session);
  stmt << "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_keys ORDER BY id";
  stmt.execute();
  Poco::Data::RecordSet rs(stmt);
  std::vector<ApiKey> out;
  for (std::size_t row = 0; row < rs.rowCount(); ++row) {
    ApiKey k = keyFromRow(rs, row);
    k.revoked_at = optTime(rs.value(5, row));
    out.push_back(std::move(k));
  }
  return out;
}

bool ApiKeyRepository::revoke(std::int64_t id) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 at = base::toUnixMillis(clock_.wallNow());
  Poco::Int64 key = id;
  Poco::Data::Statement stmt(*session);
  stmt << "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", use(at),
      use(key);
  const bool changed = stmt.execute() > 0;
  tx.commit();
  std::lock_guard lock(mutex_);
  loaded_at_.reset();  // this process sees its own revocation at once
  return changed;
}

std::int64_t ApiKeyRepository::countActive() {
  auto session = db_.acquire();
  Poco::Int64 n = 0;
  *session << "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL", into(n), now;
  return n;
}

std::optional<ApiKey> ApiKeyRepository::authenticate(const std::string& secret) {
  const std::string hash = hashSecret(secret);
  std::lock_guard lock(mutex_);
  const auto now = clock_.steadyNow();
  if (!loaded_at_ || now - *loaded_at_ >= kRecheckEvery) reloadLocked(now);
  auto it = by_hash_.find(hash);
  if (it == by_hash_.end()) {
    // Not in the map: maybe created since the last reload (by `keys create` in another
    // process). Negative answers are not cached, so this costs one indexed query, as before.
    auto found = lookupLocked(hash);
    if (!found) return std::nullopt;
    it = by_hash_.emplace(hash, std::move(*found)).first;
  }
  it->second.key.last_used_at = clock_.wallNow();
  return it->second.key;
}

std::optional<ApiKeyRepository::Cached> ApiKeyRepository::lookupLocked(const std::string& hash) {
  std::string key_hash = hash;
  auto session = db_.acquire();
  Poco::Data::Statement stmt(*session);
  stmt << "SELECT id, name, role, created_at, last_used_at FROM api_keys "
          "WHERE hash = ? AND revoked_at IS NULL",
      use(key_hash);
  stmt.execute();
  Poco::Data::RecordSet rs(stmt);
  if (rs.rowCount() == 0) return std::nullopt;
  Cached c{keyFromRow(rs, 0), std::nullopt};
  c.stored_last_used = c.key.last_used_at;
  return c;
}

void ApiKeyRepository::reloadLocked(base::SteadyTime now) {
  // Whatever fails, try again in a second rather than on every request.
  loaded_at_ = now;
  flushTouchesLocked();
  try {
    auto session = db_.acquire();
    Poco::Data::Statement stmt(*session);
    stmt << "SELECT id, name, role, created_at, last_used_at, hash FROM api_keys "
            "WHERE revoked_at IS NULL";
    stmt.execute();
    Poco::Data::RecordSet rs(stmt);
    std::unordered_map<std::string, Cached> fresh;
    fresh.reserve(rs.rowCount());
    for (std::size_t row = 0; row < rs.rowCount(); ++row) {
      Cached c{keyFromRow(rs, row), std::nullopt};
      c.stored_last_used = c.key.last_used_at;
      auto hash = rs.value(5, row).convert<std::string>();
      // A use noted here but not yet written stays the newer one.
      if (const auto old = by_hash_.find(hash); old != by_hash_.end()) {
        const auto& used = old->second.key.last_used_at;
        if (used && (!c.key.last_used_at || *used > *c.key.last_used_at)) {
          c.key.last_used_at = used;
        }
      }
      fresh.emplace(std::move(hash), std::move(c));
    }
    by_hash_.swap(fresh);
  } catch (const Poco::Exception& e) {
    kLog.warn("event=api_keys_reload_failed error=\"{}\"", e.displayText());
  }
}

void ApiKeyRepository::flushTouchesLocked() {
  std::vector<Cached*> due;
  for (auto& [hash, c] : by_hash_) {
    const auto& used = c.key.last_used_at;
    if (used && (!c.stored_last_used || *used - *c.stored_last_used >= kTouchEvery)) {
      due.push_back(&c);
    }
  }
  if (due.empty()) return;
  // Best effort: a busy database must not fail the request that happens to flush.
  try {
    auto session = db_.acquire();
    WriteTransaction tx(*session);
    for (const Cached* c : due) {
      Poco::Int64 at = base::toUnixMillis(*c->key.last_used_at);
      Poco::Int64 id = c->key.id;
      *session << "UPDATE api_keys SET last_used_at = ? WHERE id = ?", use(at), use(id), now;
    }
    tx.commit();
  } catch (const Poco::Exception& e) {
    kLog.warn("event=api_keys_touch_failed error=\"{}\"", e.displayText());
    return;
  }
  for (Cached* c : due) c->stored_last_used = c->key.last_used_at;
}

}  // namespace greenfleet::store
