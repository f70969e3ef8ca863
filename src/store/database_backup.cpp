#include "store/database_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace greenfleet::store {

namespace {
struct ConnectionClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionClose>;

Connection openConnection(const std::string& path, int flags, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Connection db(raw);
  if (rc != SQLITE_OK) {
    throw std::runtime_error(
        fmt::format("cannot open database {}: {}", path,
                    raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

void exec(sqlite3* db, const char* sql, const std::string& path) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error(fmt::format("{}: {}", path, message));
  }
}

BackupResult copyPages(sqlite3* source, sqlite3* target, const std::string& target_path) {
  sqlite3_backup* backup = sqlite3_backup_init(target, "main", source, "main");
  if (backup == nullptr) {
    throw std::runtime_error(
        fmt::format("cannot start the backup into {}: {}", target_path, sqlite3_errmsg(target)));
  }
  // All pages in one step: one read transaction, so the copy is one consistent snapshot. A busy
  // source (a writer checkpointing) is retried.
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(backup, -1);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  BackupResult result;
  result.pages = sqlite3_backup_pagecount(backup);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    throw std::runtime_error(
        fmt::format("backup into {} failed: {}", target_path, sqlite3_errstr(rc)));
  }
  return result;
}
}  // namespace

BackupResult backupDatabase(const std::string& source_path, const std::string& target_path,
                            int busy_timeout_ms) {
  // Read-write without CREATE: a missing source is an error, not a new empty database. (A
  // read-only connection could not join the WAL of a server that is not running.)
  auto source = openConnection(source_path, SQLITE_OPEN_READWRITE, busy_timeout_ms);
  // 0600 before SQLite sees it; never over an existing file or through a link.
  const int fd =
      ::open(target_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(),
                            fmt::format("cannot create backup file {}", target_path));
  }
  ::close(fd);
  try {
    BackupResult result;
    {
      auto target = openConnection(target_path, SQLITE_OPEN_READWRITE, busy_timeout_ms);
      result = copyPages(source.get(), target.get(), target_path);
      // The copy carries the source's WAL flag; a backup is one file, so switch it back.
      exec(target.get(), "PRAGMA journal_mode = DELETE", target_path);
    }
    result.bytes =
        static_cast<std::int64_t>(std::filesystem::file_size(std::filesystem::path(target_path)));
    return result;
  } catch (...) {
    ::unlink(target_path.c_str());
    ::unlink((target_path + "-journal").c_str());
    ::unlink((target_path + "-wal").c_str());
    ::unlink((target_path + "-shm").c_str());
    throw;
  }
}

}  // namespace greenfleet::store
