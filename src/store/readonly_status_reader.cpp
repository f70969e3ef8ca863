#include "store/readonly_status_reader.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>
#include <fmt/format.h>

#include "fleet/time_format.hpp"

namespace greenfleet::store {

namespace {

constexpr const char* kSelect =
    "SELECT i.id, i.api_url, i.name, i.tags, i.created_at, i.updated_at, i.enabled, "
    "s.state, s.state_since, s.attention, s.last_checked_at, s.last_ok_at, "
    "s.consecutive_failures, s.last_error_code, s.last_error, s.phone, s.next_check_at "
    "FROM instances i LEFT JOIN instance_status s ON s.id = i.id";

struct StatementCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementCloser>;

std::optional<std::int64_t> optInt(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(s, col);
}

std::optional<std::string> optText(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, col)));
}

std::vector<std::string> decodeTags(const std::string& json) {
  std::vector<std::string> out;
  Poco::JSON::Parser parser;
  const auto arr = parser.parse(json).extract<Poco::JSON::Array::Ptr>();
  for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(i));
  return out;
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
  std::string sql = kSelect;
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
    InstanceRow row;
    auto& in = row.instance;
    in.id = sqlite3_column_int64(s, 0);
    in.api_url = optText(s, 1).value_or("");
    in.name = optText(s, 2).value_or("");
    try {
      in.tags = decodeTags(optText(s, 3).value_or("[]"));
    } catch (const Poco::Exception&) {
      in.tags.clear();  // a hand-edited tags column must not hide the instance's status
    }
    in.created_at = fleet::fromUnixMillis(sqlite3_column_int64(s, 4));
    in.updated_at = fleet::fromUnixMillis(sqlite3_column_int64(s, 5));
    in.enabled = sqlite3_column_int(s, 6) != 0;
    auto& st = row.status;
    st.state = optText(s, 7);
    st.state_since_ms = optInt(s, 8);
    st.attention = optText(s, 9).value_or("none");
    st.last_checked_at_ms = optInt(s, 10);
    st.last_ok_at_ms = optInt(s, 11);
    st.consecutive_failures = static_cast<int>(optInt(s, 12).value_or(0));
    st.last_error_code = optText(s, 13);
    st.last_error = optText(s, 14);
    st.phone = optText(s, 15);
    st.next_check_at_ms = optInt(s, 16);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace greenfleet::store
