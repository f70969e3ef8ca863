#include "store/readonly_status_reader.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include <Poco/URI.h>
#include <fmt/format.h>

#include "store/instance_repository.hpp"

namespace greenfleet::store {

namespace {

struct StatementCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementCloser>;

// The token of the current row of an instanceSelectSql(true) statement, opened in place.
void openTokenOf(sqlite3_stmt* s, const TokenCipher* cipher, fleet::RegisteredInstance& in) {
  constexpr int kTokenKeyIdColumn = 18;
  const auto* key_id = sqlite3_column_text(s, kTokenKeyIdColumn);
  if (key_id == nullptr) return;  // in clear
  if (cipher == nullptr) {
    throw SecretsError(fmt::format(
        "secrets: the token of instance {} is encrypted (key id {}) and no key is configured",
        in.id, reinterpret_cast<const char*>(key_id)));
  }
  openStoredToken(*cipher, s, kTokenKeyIdColumn, in.id, in.token);
}

}  // namespace

ReadOnlyStatusReader::ReadOnlyStatusReader(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw ReadOnlyStoreError(fmt::format("no database file at {}", path));
  }
  wal_present_ = fs::exists(path + "-wal", ec);
  // A URI so the mode travels with the name: `immutable` skips locking and the WAL index, which
  // is only safe when nothing writes the file, i.e. when no -wal shows a live writer.
  std::string encoded;
  Poco::URI::encode(fs::absolute(path).string(), "?#%", encoded);
  const std::string uri =
      fmt::format("file:{}?mode=ro{}", encoded, wal_present_ ? "" : "&immutable=1");
  const int rc =
      sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw ReadOnlyStoreError(fmt::format("cannot open {} read-only: {}", path, why));
  }
  sqlite3_busy_timeout(db_, 2000);
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &raw, nullptr) != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db_);
    sqlite3_close(db_);
    db_ = nullptr;
    throw ReadOnlyStoreError(fmt::format("{} is not a readable SQLite database: {}", path, why));
  }
  Statement stmt(raw);
  if (sqlite3_step(stmt.get()) == SQLITE_ROW) schema_version_ = sqlite3_column_int(stmt.get(), 0);
  if (schema_version_ < 1) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw ReadOnlyStoreError(
        fmt::format("{} is not a greenfleet database (schema version {})", path, schema_version_));
  }
}

ReadOnlyStatusReader::~ReadOnlyStatusReader() { sqlite3_close(db_); }

std::vector<InstanceRow> ReadOnlyStatusReader::rows(const std::optional<std::string>& tag) const {
  return read(tag, false, nullptr);
}

std::vector<InstanceRow> ReadOnlyStatusReader::rowsWithTokens(const std::optional<std::string>& tag,
                                                              const TokenCipher* cipher) const {
  return read(tag, true, cipher);
}

std::vector<InstanceRow> ReadOnlyStatusReader::read(const std::optional<std::string>& tag,
                                                    bool with_tokens,
                                                    const TokenCipher* cipher) const {
  // Before migration 0004 there is no token_key_id: every token is in clear.
  constexpr int kTokenKeyIdVersion = 4;
  std::string sql =
      instanceSelectSql(with_tokens, with_tokens && schema_version_ >= kTokenKeyIdVersion);
  if (tag) sql += " WHERE EXISTS (SELECT 1 FROM json_each(i.tags) WHERE json_each.value = ?)";
  sql += " ORDER BY i.id";
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    throw ReadOnlyStoreError(
        fmt::format("cannot read instances from {}: {}", path_, sqlite3_errmsg(db_)));
  }
  Statement stmt(raw);
  if (tag) {
    sqlite3_bind_text(stmt.get(), 1, tag->c_str(), static_cast<int>(tag->size()), SQLITE_TRANSIENT);
  }
  std::vector<InstanceRow> out;
  sqlite3_stmt* s = stmt.get();
  while (true) {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      throw ReadOnlyStoreError(
          fmt::format("cannot read instances from {}: {}", path_, sqlite3_errmsg(db_)));
    }
    auto& row = out.emplace_back();
    readInstanceRow(s, row, true);
    if (with_tokens) openTokenOf(s, cipher, row.instance);
  }
  return out;
}

}  // namespace greenfleet::store
