#include "store/sqlite_statement.hpp"

#include <sqlite3.h>

#include <Poco/Data/SQLite/Utility.h>

namespace greenfleet::store {

namespace {
[[noreturn]] void fail(sqlite3* db, int rc) {
  // Poco maps primary result codes only (SQLITE_CONSTRAINT, not SQLITE_CONSTRAINT_PRIMARYKEY).
  Poco::Data::SQLite::Utility::throwException(db, rc & 0xff);
  throw std::logic_error("unreachable: sqlite error not thrown");
}
}  // namespace

sqlite3* sqliteHandle(Poco::Data::Session& session) {
  return Poco::Data::SQLite::Utility::dbHandle(session);
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db_, rc);
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc);
}

void SqliteStatement::bind(int index, std::string_view text) {
  const int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc);
}

void SqliteStatement::bindOptional(int index, const std::optional<std::int64_t>& value) {
  if (value) return bind(index, *value);
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc);
}

void SqliteStatement::bindOptional(int index, const std::optional<std::string>& text) {
  if (text) return bind(index, std::string_view(*text));
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc);
}

bool SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  fail(db_, rc);
}

void SqliteStatement::execute() {
  const int rc = sqlite3_step(stmt_);
  sqlite3_reset(stmt_);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) fail(db_, rc);
}

void SqliteStatement::reset() { sqlite3_reset(stmt_); }

std::optional<std::int64_t> columnOptInt(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt, col);
}

std::optional<std::string> columnOptText(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
  std::string out;
  columnTextInto(stmt, col, out);
  return out;
}

void columnTextInto(sqlite3_stmt* stmt, int col, std::string& out) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  if (text == nullptr) {
    out.clear();
    return;
  }
  out.assign(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)));
}

}  // namespace greenfleet::store
