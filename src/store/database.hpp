#pragma once
// Database: the one place SQLite connections are opened. Creates the data directory (0700) and
// the file (0600), applies the pragmas every connection needs (WAL, foreign keys, busy timeout —
// outside any transaction, or SQLite ignores them) and lends connections from a small pool.
// Thread-safe: each lease is one connection used by one thread at a time.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Data/Session.h>

namespace greenfleet::store {

struct DatabaseOptions {
  std::string path;  // file path, or ":memory:" (then a single shared connection)
  int busy_timeout_ms = 5000;
  std::size_t max_connections = 8;
  bool read_only = false;
  // FULL for the registry (a 2xx write survives power loss); the batched status writer opens
  // its own connection with NORMAL.
  bool synchronous_full = true;
};

class Database {
 public:
  // RAII loan of one connection; returned to the pool on destruction.
  class Lease {
   public:
    Lease(Database& db, std::unique_ptr<Poco::Data::Session> session);
    ~Lease();
    Lease(Lease&&) = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Poco::Data::Session& operator*() { return *session_; }
    Poco::Data::Session* operator->() { return session_.get(); }

   private:
    Database* db_;
    std::unique_ptr<Poco::Data::Session> session_;
  };

  explicit Database(DatabaseOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Lease acquire();
  // A connection outside the pool, owned by the caller (the status writer keeps one with
  // synchronous=NORMAL). Throws std::logic_error for ":memory:", which it would not share.
  std::unique_ptr<Poco::Data::Session> openDedicated(bool synchronous_full);
  const DatabaseOptions& options() const { return options_; }
  // True for ":memory:": one connection for every lease, and none dedicated.
  bool sharesOneConnection() const { return options_.path == ":memory:"; }

 private:
  std::unique_ptr<Poco::Data::Session> open(bool synchronous_full);
  void release(std::unique_ptr<Poco::Data::Session> session);

  DatabaseOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Poco::Data::Session>> idle_;
  std::size_t open_count_ = 0;
};

// Writes through a lease inside BEGIN IMMEDIATE (Poco's begin() is DEFERRED, which lets two
// writers deadlock on upgrade); rolls back on destruction unless commit() was called.
class WriteTransaction {
 public:
  explicit WriteTransaction(Poco::Data::Session& session);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Poco::Data::Session& session_;
  bool done_ = false;
};

}  // namespace greenfleet::store
