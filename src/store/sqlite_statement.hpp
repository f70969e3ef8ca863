#pragma once
// SqliteStatement: one prepared statement on a raw sqlite3 connection, for the hot paths where
// Poco::Data's per-value extraction (a Variant per column, a RecordSet of every row) costs more
// than the query: the start-up loader, bulk import, instance pages. Owns the sqlite3_stmt
// (finalized on destruction) and borrows the connection, which must outlive it. Errors throw the
// Poco::Data::SQLite exception of the result code (ConstraintViolationException, …), as Poco
// would. Not thread-safe: one thread at a time, like the connection it was prepared on.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <Poco/Data/Session.h>

struct sqlite3;
struct sqlite3_stmt;

namespace greenfleet::store {

// The sqlite3 handle behind a Poco session of the SQLite connector.
sqlite3* sqliteHandle(Poco::Data::Session& session);

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are 1-based. Text is copied (SQLITE_TRANSIENT): temporaries are fine.
  void bind(int index, std::int64_t value);
  void bind(int index, std::string_view text);
  // NULL when empty.
  void bindOptional(int index, const std::optional<std::int64_t>& value);
  void bindOptional(int index, const std::optional<std::string>& text);
  // Binds the values to parameters 1..N in order; an empty optional binds NULL.
  template <typename... Values>
  void bindRow(const Values&... values) {
    int index = 0;
    (bindValue(++index, values), ...);
  }
  // Next row: true when one is there, false when done.
  bool step();
  // Runs a statement without rows and resets it for the next bindings.
  void execute();
  // Back to the start; bindings kept until rebound.
  void reset();

  sqlite3_stmt* get() const { return stmt_; }

 private:
  void bindValue(int index, std::int64_t value) { bind(index, value); }
  void bindValue(int index, const std::string& text) { bind(index, std::string_view(text)); }
  void bindValue(int index, const std::optional<std::int64_t>& value) {
    bindOptional(index, value);
  }
  void bindValue(int index, const std::optional<std::string>& text) { bindOptional(index, text); }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Column readers (0-based) over the current row.
std::optional<std::int64_t> columnOptInt(sqlite3_stmt* stmt, int col);
std::optional<std::string> columnOptText(sqlite3_stmt* stmt, int col);
// Assigns the text (empty for NULL) into `out`, reusing its capacity.
void columnTextInto(sqlite3_stmt* stmt, int col, std::string& out);

}  // namespace greenfleet::store
