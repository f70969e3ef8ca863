#include "store/instance_repository.hpp"

#include <sqlite3.h>

#include <Poco/Data/SQLite/SQLiteException.h>
#include <Poco/Data/Statement.h>
#include <fmt/format.h>

#include "base/time_format.hpp"
#include "store/sqlite_statement.hpp"
#include "store/tags_json.hpp"

using namespace Poco::Data::Keywords;
using Poco::Data::Statement;

namespace greenfleet::store {

namespace {

constexpr int kTokenKeyIdColumn = 18;

// WHERE clause and bindings shared by the page query and its count.
struct FilterSql {
  std::string where;
  std::vector<std::string> text_args;
};

FilterSql filterSql(const InstanceFilter& f) {
  FilterSql out;
  std::vector<std::string> conditions;
  if (f.state) {
    if (*f.state == "unknown") {
      conditions.push_back("s.state IS NULL");
    } else {
      conditions.push_back("s.state = ?");
      out.text_args.push_back(*f.state);
    }
  }
  if (f.attention) {
    conditions.push_back("COALESCE(s.attention, 'none') = ?");
    out.text_args.push_back(*f.attention);
  }
  if (f.tag) {
    conditions.push_back("EXISTS (SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ?)");
    out.text_args.push_back(*f.tag);
  }
  if (f.name_contains) {
    conditions.push_back("instr(lower(i.name), lower(?)) > 0");
    out.text_args.push_back(*f.name_contains);
  }
  for (std::size_t k = 0; k < conditions.size(); ++k) {
    out.where += (k == 0 ? " WHERE " : " AND ") + conditions[k];
  }
  return out;
}

// Binds the filter's texts from parameter 1; returns the next free index.
int bindFilter(SqliteStatement& stmt, const FilterSql& f) {
  int index = 1;
  for (const auto& a : f.text_args) stmt.bind(index++, a);
  return index;
}

}  // namespace

InstanceRepository::InstanceRepository(Database& db, const base::Clock& clock,
                                       const TokenCipher& cipher)
    : db_(db), clock_(clock), cipher_(cipher) {}

void InstanceRepository::openToken(sqlite3_stmt* stmt, InstanceRow& row) const {
  openStoredToken(cipher_, stmt, kTokenKeyIdColumn, row.instance.id, row.instance.token);
}

std::vector<InstanceRow> InstanceRepository::readRows(SqliteStatement& stmt) const {
  std::vector<InstanceRow> out;
  while (stmt.step()) {
    readInstanceRow(stmt.get(), out.emplace_back(), false);
    openToken(stmt.get(), out.back());
  }
  return out;
}

base::Result<std::vector<InstanceRow>, DuplicateInstance> InstanceRepository::create(
    std::vector<fleet::RegisteredInstance> instances) {
  const std::int64_t now_ms = base::toUnixMillis(clock_.wallNow());
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  // One statement prepared once per batch, stepped per row: a batch of 10,000 is one
  // transaction and no SQL parsing per row. No instance_status row yet: the first status write
  // creates it, and every read LEFT JOINs it (an absent row reads as "not probed yet").
  sqlite3* db = sqliteHandle(*session);
  SqliteStatement insert(db,
                         "INSERT INTO instances(id, api_url, token, name, tags, created_at, "
                         "updated_at, enabled, token_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (std::size_t k = 0; k < instances.size(); ++k) {
    auto& in = instances[k];
    in.created_at = in.updated_at = base::fromUnixMillis(now_ms);
    bindInstanceColumns(insert, in, now_ms, cipher_);
    insert.bind(8, std::int64_t{in.enabled ? 1 : 0});
    insert.bind(9, cipher_.keyId());
    try {
      insert.execute();
    } catch (const Poco::Data::SQLite::ConstraintViolationException&) {
      return base::Unexpected(DuplicateInstance{k, in.id});
    }
  }
  tx.commit();
  std::vector<InstanceRow> rows;
  rows.reserve(instances.size());
  for (auto& in : instances) rows.push_back({std::move(in), StoredStatus{}});
  return rows;
}

std::optional<InstanceRow> InstanceRepository::get(std::int64_t id) {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session), instanceSelectSql(true) + " WHERE i.id = ?");
  stmt.bind(1, id);
  auto rows = readRows(stmt);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

InstancePage InstanceRepository::list(const InstanceFilter& filter) {
  const FilterSql f = filterSql(filter);
  auto session = db_.acquire();
  InstancePage page;
  sqlite3* db = sqliteHandle(*session);
  {
    SqliteStatement count(
        db,
        "SELECT COUNT(*) FROM instances i LEFT JOIN instance_status s ON s.id = i.id" + f.where);
    bindFilter(count, f);
    if (count.step()) page.total = columnOptInt(count.get(), 0).value_or(0);
  }
  std::string sql = instanceSelectSql(true) + f.where;
  if (filter.after_id) sql += f.where.empty() ? " WHERE i.id > ?" : " AND i.id > ?";
  sql += " ORDER BY i.id LIMIT ?";
  SqliteStatement stmt(db, sql);
  int index = bindFilter(stmt, f);
  if (filter.after_id) stmt.bind(index++, *filter.after_id);
  // One extra row tells whether another page follows.
  stmt.bind(index, static_cast<std::int64_t>(filter.limit + 1));
  page.items = readRows(stmt);
  if (page.items.size() > filter.limit) {
    page.items.pop_back();
    page.next_after_id = page.items.back().instance.id;
  }
  return page;
}

std::optional<InstanceRow> InstanceRepository::update(std::int64_t id, const InstancePatch& p) {
  {
    auto session = db_.acquire();
    WriteTransaction tx(*session);
    std::string sets = "updated_at = ?";
    Statement stmt(*session);
    Poco::Int64 now_ms = base::toUnixMillis(clock_.wallNow());
    std::vector<std::string> texts;
    if (p.api_url) sets += ", api_url = ?";
    if (p.token) sets += ", token = ?, token_key_id = ?";
    if (p.name) sets += ", name = ?";
    if (p.tags) sets += ", tags = ?";
    if (p.enabled) sets += ", enabled = ?";
    stmt << "UPDATE instances SET " + sets + " WHERE id = ?";
    stmt, bind(now_ms);
    if (p.api_url) stmt, bind(*p.api_url);
    if (p.token) stmt, bind(cipher_.seal(*p.token, id)), bind(cipher_.keyId());
    if (p.name) stmt, bind(*p.name);
    if (p.tags) stmt, bind(encodeTags(*p.tags));
    if (p.enabled) stmt, bind(*p.enabled ? 1 : 0);
    stmt, bind(static_cast<Poco::Int64>(id));
    if (stmt.execute() == 0) return std::nullopt;
    tx.commit();
  }
  return get(id);
}

bool InstanceRepository::remove(std::int64_t id) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  Poco::Int64 key = id;
  Statement stmt(*session);
  stmt << "DELETE FROM instances WHERE id = ?", use(key);
  const bool removed = stmt.execute() > 0;
  tx.commit();
  return removed;
}

std::int64_t InstanceRepository::count() {
  auto session = db_.acquire();
  Poco::Int64 n = 0;
  *session << "SELECT COUNT(*) FROM instances", into(n), now;
  return n;
}

void InstanceRepository::forEachRow(const std::function<void(const InstanceRow&)>& sink) {
  forEachSealedRow([&](InstanceRow& row, bool sealed) {
    if (sealed) openSealedToken(row.instance);
    sink(row);
  });
}

void InstanceRepository::openSealedToken(fleet::RegisteredInstance& instance) const {
  cipher_.openInPlace(instance.token, instance.id);
}

void InstanceRepository::forEachSealedRow(
    const std::function<void(InstanceRow&, bool sealed)>& sink) {
  auto session = db_.acquire();
  sqlite3* db = sqliteHandle(*session);
  // Poco opens connections serialized, so every sqlite3_column_* call takes the connection's
  // (recursive) mutex: ~18 lock pairs per row. Held once for the scan, they re-enter it cheaply.
  sqlite3_mutex* mutex = sqlite3_db_mutex(db);  // NULL (a no-op below) when not serialized
  sqlite3_mutex_enter(mutex);
  struct Leave {
    sqlite3_mutex* m;
    ~Leave() { sqlite3_mutex_leave(m); }
  } leave{mutex};
  SqliteStatement stmt(db, instanceSelectSql(true) + " ORDER BY i.id");
  // One row at a time into one reused row: a fleet of a million never sits in memory twice.
  InstanceRow row;
  while (stmt.step()) {
    readInstanceRow(stmt.get(), row, false);
    sink(row, storedTokenSealed(cipher_, stmt.get(), kTokenKeyIdColumn, row.instance.id));
  }
}

std::string instanceSelectSql(bool with_token, bool with_token_key_id) {
  return std::string("SELECT i.id, i.api_url, ") + (with_token ? "i.token" : "NULL") +
         ", i.name, i.tags, i.created_at, i.updated_at, i.enabled, "
         "s.state, s.state_since, s.attention, s.last_checked_at, s.last_ok_at, "
         "s.consecutive_failures, s.last_error_code, s.last_error, s.phone, s.next_check_at, " +
         (with_token && with_token_key_id ? "i.token_key_id" : "NULL") +
         " FROM instances i LEFT JOIN instance_status s ON s.id = i.id";
}

bool storedTokenSealed(const TokenCipher& cipher, sqlite3_stmt* stmt, int key_id_column,
                       std::int64_t id, TokenOwner owner) {
  // NULL: a row from before migration 0004 (0007 for partners) that start-up has not sealed
  // yet; it is clear text.
  const auto* key_id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, key_id_column));
  if (key_id == nullptr) return false;
  if (cipher.keyId() != key_id) {
    throw SecretsError(fmt::format(
        "secrets: the token of {} {} was sealed by key id {}, "
        "not by the loaded key (id {})",
        owner == TokenOwner::instance ? "instance" : "partner", id, key_id, cipher.keyId()));
  }
  return true;
}

void openStoredToken(const TokenCipher& cipher, sqlite3_stmt* stmt, int key_id_column,
                     std::int64_t id, std::string& token, TokenOwner owner) {
  if (storedTokenSealed(cipher, stmt, key_id_column, id, owner)) {
    cipher.openInPlace(token, id, owner);
  }
}

void bindInstanceColumns(SqliteStatement& insert, const fleet::RegisteredInstance& in,
                         std::int64_t now_ms, const TokenCipher& cipher) {
  insert.bind(1, in.id);
  insert.bind(2, in.api_url);
  insert.bind(3, cipher.seal(in.token, in.id));
  insert.bind(4, in.name);
  insert.bind(5, encodeTags(in.tags));
  insert.bind(6, now_ms);
  insert.bind(7, now_ms);
}

void readInstanceRow(sqlite3_stmt* s, InstanceRow& row, bool lenient_tags) {
  auto& in = row.instance;
  in.id = sqlite3_column_int64(s, 0);
  columnTextInto(s, 1, in.api_url);
  columnTextInto(s, 2, in.token);
  columnTextInto(s, 3, in.name);
  try {
    const auto* tags = reinterpret_cast<const char*>(sqlite3_column_text(s, 4));
    decodeTagsInto(
        tags == nullptr
            ? std::string_view("[]")
            : std::string_view(tags, static_cast<std::size_t>(sqlite3_column_bytes(s, 4))),
        in.tags);
  } catch (const Poco::Exception&) {
    if (!lenient_tags) throw;
    in.tags.clear();  // a hand-edited tags column must not hide the instance's status
  }
  in.created_at = base::fromUnixMillis(sqlite3_column_int64(s, 5));
  in.updated_at = base::fromUnixMillis(sqlite3_column_int64(s, 6));
  in.enabled = sqlite3_column_int(s, 7) != 0;
  auto& st = row.status;
  st.state = columnOptText(s, 8);
  st.state_since_ms = columnOptInt(s, 9);
  st.attention = columnOptText(s, 10).value_or("none");
  st.last_checked_at_ms = columnOptInt(s, 11);
  st.last_ok_at_ms = columnOptInt(s, 12);
  st.consecutive_failures = static_cast<int>(columnOptInt(s, 13).value_or(0));
  st.last_error_code = columnOptText(s, 14);
  st.last_error = columnOptText(s, 15);
  st.phone = columnOptText(s, 16);
  st.next_check_at_ms = columnOptInt(s, 17);
}

}  // namespace greenfleet::store
