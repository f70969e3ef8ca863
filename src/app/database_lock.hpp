#pragma once
// DatabaseLock: an flock(2) on `<database>.lock` that keeps `greenfleet secrets rotate` and the
// commands that open tokens apart. serve and migrate hold it shared (several may run);
// rotate holds it exclusive, so it refuses to run while a server runs, and a server refuses to
// start mid-rotation. A separate file, not the database: SQLite's POSIX locks on the database
// would be dropped by closing any other descriptor of it. Released on destruction (or when the
// process dies).

#include <string>

namespace greenfleet::app {

class DatabaseLock {
 public:
  enum class Mode { shared, exclusive };
  // Throws std::runtime_error naming the lock file when it is held in a conflicting mode.
  DatabaseLock(const std::string& database_path, Mode mode);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace greenfleet::app
