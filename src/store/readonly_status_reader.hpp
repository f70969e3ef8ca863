#pragma once
// ReadOnlyStatusReader: reads instances and their stored status straight from a greenfleet
// SQLite file without changing it, for `greenfleet sweep --db` on a host whose server is down.
// Uses the sqlite3 C API (not Database): no migration, no pragmas, no journal-mode change.
// When no `-wal` file sits beside the database (the server stopped cleanly) it opens the file as
// `immutable`, so SQLite creates no `-wal`/`-shm` files at all; when one exists (the server runs
// or crashed) it opens read-only with normal locking, which must read the WAL and so may create
// the `-shm` index. Tokens are read only by rowsWithTokens (`instances export --with-tokens
// --db`), which opens sealed ones with a key it is given and never seals anything. Owns its
// connection; not thread-safe.

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/instance_repository.hpp"

struct sqlite3;

namespace greenfleet::store {

class ReadOnlyStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ReadOnlyStatusReader {
 public:
  // Throws ReadOnlyStoreError when the file is missing, unreadable or not a greenfleet database.
  explicit ReadOnlyStatusReader(const std::string& path);
  ~ReadOnlyStatusReader();
  ReadOnlyStatusReader(const ReadOnlyStatusReader&) = delete;
  ReadOnlyStatusReader& operator=(const ReadOnlyStatusReader&) = delete;

  // Every instance (only those tagged `tag`, when given) with its status, in id order; the
  // `token` field is left empty.
  std::vector<InstanceRow> rows(const std::optional<std::string>& tag) const;
  // rows() with each token: sealed rows opened with `cipher`, rows still in clear (a database
  // from before migration 0004, or not sealed yet) as they are. Throws SecretsError for a
  // sealed row when `cipher` is null (no key) or is not the key that sealed it.
  std::vector<InstanceRow> rowsWithTokens(const std::optional<std::string>& tag,
                                          const TokenCipher* cipher) const;
  // True when a `-wal` file existed, i.e. the server may be running or did not stop cleanly.
  bool walPresent() const { return wal_present_; }
  int schemaVersion() const { return schema_version_; }

 private:
  std::vector<InstanceRow> read(const std::optional<std::string>& tag, bool with_tokens,
                                const TokenCipher* cipher) const;

  sqlite3* db_ = nullptr;
  std::string path_;
  bool wal_present_ = false;
  int schema_version_ = 0;
};

}  // namespace greenfleet::store
