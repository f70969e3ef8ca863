#pragma once
// backupDatabase: a consistent copy of a live SQLite database through the online backup API
// (sqlite3_backup_*). The copy is one read transaction on the source, so with WAL the server
// keeps writing while it runs and the copy holds exactly the commits made before it began. The
// target is created 0600 (it holds the sealed tokens) and never overwritten; it is a plain
// rollback-journal database, self-contained in one file.

#include <cstdint>
#include <string>

namespace greenfleet::store {

struct BackupResult {
  std::int64_t pages = 0;
  std::int64_t bytes = 0;
};

// Throws std::runtime_error naming the file at fault; on failure no partial target is left.
BackupResult backupDatabase(const std::string& source_path, const std::string& target_path,
                            int busy_timeout_ms);

}  // namespace greenfleet::store
