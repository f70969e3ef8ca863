#include "store/partner_repository.hpp"

#include <sqlite3.h>

#include <sstream>

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <openssl/crypto.h>

#include "base/log.hpp"
#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "fleet/stored_attention.hpp"
#include "store/instance_repository.hpp"
#include "store/sqlite_statement.hpp"
#include "store/tags_json.hpp"

namespace greenfleet::store {

namespace {

// readAccount keeps the token only for the sync; every other reader gets its hint.
constexpr const char* kSelect =
    "SELECT p.id, p.name, p.api_url, p.partner_token, p.tags, p.api_url_template, "
    "p.created_at, p.updated_at, p.last_sync, "
    "(SELECT COUNT(*) FROM instances i WHERE i.partner_id = p.id), "
    "(SELECT COUNT(*) FROM instances i WHERE i.partner_id = p.id AND i.expired_at IS NOT "
    "NULL), p.token_key_id FROM partners p";
constexpr int kTokenKeyIdColumn = 11;

// The token is sealed in the file (migration 0007); its hint is taken from the opened token.
PartnerAccount readAccount(sqlite3_stmt* s, const TokenCipher& cipher, bool with_token) {
  PartnerAccount a;
  a.id = sqlite3_column_int64(s, 0);
  columnTextInto(s, 1, a.name);
  columnTextInto(s, 2, a.api_url);
  std::string token;
  columnTextInto(s, 3, token);
  openStoredToken(cipher, s, kTokenKeyIdColumn, a.id, token, TokenOwner::partner);
  a.token_hint = base::tokenHint(token);
  if (with_token) {
    a.token = std::move(token);
  } else {
    OPENSSL_cleanse(token.data(), token.size());
  }
  std::string tags;
  columnTextInto(s, 4, tags);
  a.tags = decodeTags(tags);
  columnTextInto(s, 5, a.api_url_template);
  a.created_at_ms = sqlite3_column_int64(s, 6);
  a.updated_at_ms = sqlite3_column_int64(s, 7);
  if (const auto last = columnOptText(s, 8)) a.last_sync = decodeSyncResult(*last);
  a.instances = sqlite3_column_int64(s, 9);
  a.expired_instances = sqlite3_column_int64(s, 10);
  return a;
}

// Seals `token` for partner `id` into its row; the id is the associated data, so an insert
// stores it once the row has its id.
void storeToken(sqlite3* db, const TokenCipher& cipher, std::int64_t id, const std::string& token) {
  SqliteStatement stmt(db, "UPDATE partners SET partner_token = ?, token_key_id = ? WHERE id = ?");
  stmt.bind(1, cipher.seal(token, id, TokenOwner::partner));
  stmt.bind(2, cipher.keyId());
  stmt.bind(3, id);
  stmt.execute();
}

void storeResult(sqlite3* db, std::int64_t partner_id, const fleet::PartnerSyncResult& result) {
  SqliteStatement stmt(db, "UPDATE partners SET last_sync = ? WHERE id = ?");
  stmt.bind(1, encodeSyncResult(result));
  stmt.bind(2, partner_id);
  stmt.execute();
}

// Inserts a sync's new instances, managed by the partner; returns the ids inserted, in order.
// One registered by hand since the plan was made is left out: the hand registration wins.
std::vector<std::int64_t> insertAdded(sqlite3* db, const TokenCipher& cipher,
                                      std::int64_t partner_id,
                                      const std::vector<fleet::RegisteredInstance>& added,
                                      std::int64_t now_ms) {
  std::vector<std::int64_t> inserted;
  SqliteStatement insert(db,
                         "INSERT INTO instances(id, api_url, token, name, tags, created_at, "
                         "updated_at, enabled, partner_id, token_key_id) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
                         "ON CONFLICT(id) DO NOTHING");
  // No instance_status row yet: the first status write creates it (reads LEFT JOIN it).
  for (const auto& in : added) {
    bindInstanceColumns(insert, in, now_ms, cipher);
    insert.bind(8, partner_id);
    insert.bind(9, cipher.keyId());
    insert.execute();
    if (sqlite3_changes(db) == 0) continue;
    inserted.push_back(in.id);
  }
  return inserted;
}

// Applies a sync's token rotations, expiries and restorations to the instances the partner
// manages (an instance that is not the partner's is left alone).
void updateManaged(sqlite3* db, const TokenCipher& cipher, std::int64_t partner_id,
                   const fleet::ReconciliationPlan& plan, std::int64_t now_ms) {
  SqliteStatement token(db,
                        "UPDATE instances SET token = ?1, token_key_id = ?2, updated_at = ?3 "
                        "WHERE id = ?4 AND partner_id = ?5");
  SqliteStatement expiry(db,
                         "UPDATE instances SET enabled = ?1, updated_at = ?2, "
                         "expired_at = CASE ?1 WHEN 1 THEN NULL ELSE ?2 END "
                         "WHERE id = ?3 AND partner_id = ?4");
  SqliteStatement attention(
      db,
      "INSERT INTO instance_status(id, attention, needs_scan) SELECT ?2, ?1, 0 WHERE "
      "EXISTS (SELECT 1 FROM instances WHERE id = ?2 AND partner_id = ?3) "
      "ON CONFLICT(id) DO UPDATE SET attention = excluded.attention, needs_scan = 0");
  const auto setToken = [&](const fleet::InstanceTokenChange& change) {
    token.bind(1, cipher.seal(change.token, change.id));
    token.bind(2, cipher.keyId());
    token.bind(3, now_ms);
    token.bind(4, change.id);
    token.bind(5, partner_id);
    token.execute();
  };
  // Expired: polling stops (enabled 0), the stored attention says why; restored: the reverse.
  const auto setExpired = [&](std::int64_t id, bool expired) {
    expiry.bind(1, std::int64_t{expired ? 0 : 1});
    expiry.bind(2, now_ms);
    expiry.bind(3, id);
    expiry.bind(4, partner_id);
    expiry.execute();
    attention.bind(
        1, expired ? fleet::kExpiredAttentionName : fleet::attentionName(fleet::Attention::none));
    attention.bind(2, id);
    attention.bind(3, partner_id);
    attention.execute();
  };
  for (const auto& change : plan.token_changes) setToken(change);
  for (const auto id : plan.expired) setExpired(id, true);
  for (const auto& change : plan.restored) {
    setToken(change);
    setExpired(change.id, false);
  }
}

}  // namespace

std::string encodeSyncResult(const fleet::PartnerSyncResult& r) {
  Poco::JSON::Object o;
  o.set("at", static_cast<Poco::Int64>(r.at_ms));
  o.set("ok", r.ok);
  o.set("listed", static_cast<Poco::UInt64>(r.listed));
  o.set("added", static_cast<Poco::UInt64>(r.added));
  o.set("updated", static_cast<Poco::UInt64>(r.updated));
  o.set("expired", static_cast<Poco::UInt64>(r.expired));
  o.set("unchanged", static_cast<Poco::UInt64>(r.unchanged));
  o.set("notManaged", static_cast<Poco::UInt64>(r.not_managed));
  Poco::JSON::Array skipped;
  for (const auto& s : r.skipped) {
    Poco::JSON::Object item;
    item.set("id", static_cast<Poco::Int64>(s.id));
    item.set("typeInstance", s.type);
    skipped.add(item);
  }
  o.set("skipped", skipped);
  Poco::JSON::Array errors;
  for (const auto& e : r.errors) errors.add(e);
  o.set("errors", errors);
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(o, out);
  return out.str();
}

fleet::PartnerSyncResult decodeSyncResult(const std::string& json) {
  fleet::PartnerSyncResult r;
  const auto o = Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
  const auto count = [&](const char* name) {
    return static_cast<std::size_t>(o->optValue<Poco::UInt64>(name, 0));
  };
  r.at_ms = o->optValue<Poco::Int64>("at", 0);
  r.ok = o->optValue<bool>("ok", false);
  r.listed = count("listed");
  r.added = count("added");
  r.updated = count("updated");
  r.expired = count("expired");
  r.unchanged = count("unchanged");
  r.not_managed = count("notManaged");
  if (const auto skipped = o->getArray("skipped")) {
    for (std::size_t i = 0; i < skipped->size(); ++i) {
      const auto item = skipped->getObject(static_cast<unsigned>(i));
      r.skipped.push_back(
          {item->getValue<Poco::Int64>("id"), item->getValue<std::string>("typeInstance")});
    }
  }
  if (const auto errors = o->getArray("errors")) {
    for (std::size_t i = 0; i < errors->size(); ++i) {
      r.errors.push_back(errors->getElement<std::string>(static_cast<unsigned>(i)));
    }
  }
  return r;
}

PartnerRepository::PartnerRepository(Database& db, const base::Clock& clock,
                                     const TokenCipher& cipher)
    : db_(db), clock_(clock), cipher_(cipher) {}

base::Result<PartnerAccount, DuplicatePartnerName> PartnerRepository::create(
    const PartnerAccount& account) {
  const std::int64_t now_ms = base::toUnixMillis(clock_.wallNow());
  std::int64_t id = 0;
  {
    auto session = db_.acquire();
    WriteTransaction tx(*session);
    sqlite3* db = sqliteHandle(*session);
    SqliteStatement insert(
        db,
        "INSERT INTO partners(name, api_url, partner_token, tags, "
        "api_url_template, created_at, updated_at, token_key_id) VALUES (?, ?, '', ?, ?, ?, ?, ?)");
    insert.bind(1, account.name);
    insert.bind(2, account.api_url);
    insert.bind(3, encodeTags(account.tags));
    insert.bind(4, account.api_url_template);
    insert.bind(5, now_ms);
    insert.bind(6, now_ms);
    insert.bind(7, cipher_.keyId());
    try {
      insert.execute();
    } catch (const Poco::Data::SQLite::ConstraintViolationException&) {
      return base::Unexpected(DuplicatePartnerName{account.name});  // the only constraint: name
    }
    id = sqlite3_last_insert_rowid(db);
    storeToken(db, cipher_, id, account.token);
    tx.commit();
  }
  return *get(id);
}

std::optional<PartnerAccount> PartnerRepository::get(std::int64_t id, bool with_token) {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session), std::string(kSelect) + " WHERE p.id = ?");
  stmt.bind(1, id);
  if (!stmt.step()) return std::nullopt;
  return readAccount(stmt.get(), cipher_, with_token);
}

std::vector<PartnerAccount> PartnerRepository::list() {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session), std::string(kSelect) + " ORDER BY p.id");
  std::vector<PartnerAccount> out;
  while (stmt.step()) out.push_back(readAccount(stmt.get(), cipher_, false));
  return out;
}

base::Result<std::optional<PartnerAccount>, DuplicatePartnerName> PartnerRepository::update(
    std::int64_t id, const PartnerPatch& p) {
  {
    auto session = db_.acquire();
    WriteTransaction tx(*session);
    std::string sql = "UPDATE partners SET updated_at = ?";
    if (p.name) sql += ", name = ?";
    if (p.api_url) sql += ", api_url = ?";
    if (p.tags) sql += ", tags = ?";
    if (p.api_url_template) sql += ", api_url_template = ?";
    SqliteStatement stmt(sqliteHandle(*session), sql + " WHERE id = ?");
    int k = 1;
    stmt.bind(k++, base::toUnixMillis(clock_.wallNow()));
    if (p.name) stmt.bind(k++, *p.name);
    if (p.api_url) stmt.bind(k++, *p.api_url);
    if (p.tags) stmt.bind(k++, encodeTags(*p.tags));
    if (p.api_url_template) stmt.bind(k++, *p.api_url_template);
    stmt.bind(k, id);
    try {
      stmt.execute();
    } catch (const Poco::Data::SQLite::ConstraintViolationException&) {
      return base::Unexpected(DuplicatePartnerName{p.name.value_or("")});
    }
    if (sqlite3_changes(sqliteHandle(*session)) == 0) return std::optional<PartnerAccount>{};
    if (p.token) storeToken(sqliteHandle(*session), cipher_, id, *p.token);
    tx.commit();
  }
  return get(id);
}

bool PartnerRepository::remove(std::int64_t id) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  sqlite3* db = sqliteHandle(*session);
  SqliteStatement stmt(db, "DELETE FROM partners WHERE id = ?");
  stmt.bind(1, id);
  stmt.execute();
  const bool removed = sqlite3_changes(db) > 0;
  tx.commit();
  return removed;
}

std::unordered_map<std::int64_t, fleet::KnownInstance> PartnerRepository::known(
    const std::vector<std::int64_t>& ids) {
  std::unordered_map<std::int64_t, fleet::KnownInstance> out;
  auto session = db_.acquire();
  SqliteStatement stmt(
      sqliteHandle(*session),
      "SELECT partner_id, token, expired_at IS NOT NULL, token_key_id FROM instances WHERE id = ?");
  for (const auto id : ids) {
    stmt.reset();
    stmt.bind(1, id);
    if (!stmt.step()) continue;
    fleet::KnownInstance k;
    k.partner_id = columnOptInt(stmt.get(), 0);
    columnTextInto(stmt.get(), 1, k.token);
    openStoredToken(cipher_, stmt.get(), 3, id, k.token);
    k.expired = sqlite3_column_int(stmt.get(), 2) != 0;
    out.emplace(id, std::move(k));
  }
  return out;
}

std::vector<std::int64_t> PartnerRepository::applySync(std::int64_t partner_id,
                                                       const fleet::ReconciliationPlan& plan,
                                                       const fleet::PartnerSyncResult& result) {
  const std::int64_t now_ms = base::toUnixMillis(clock_.wallNow());
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  sqlite3* db = sqliteHandle(*session);
  auto inserted = insertAdded(db, cipher_, partner_id, plan.added, now_ms);
  updateManaged(db, cipher_, partner_id, plan, now_ms);
  storeResult(db, partner_id, result);
  tx.commit();
  return inserted;
}

void PartnerRepository::saveResult(std::int64_t partner_id,
                                   const fleet::PartnerSyncResult& result) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  storeResult(sqliteHandle(*session), partner_id, result);
  tx.commit();
}

}  // namespace greenfleet::store
