#pragma once
// InstanceRepository: the registry of instances in SQLite. Every write commits (BEGIN IMMEDIATE …
// COMMIT) before it returns, so a 2xx answered on top of it survives a crash. Batch creation is
// all or nothing. Tokens are sealed with the TokenCipher on write and opened on read: callers
// only ever see clear tokens, the file only ciphertext. Thread-safe (each call leases its own
// connection).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "fleet/registered_instance.hpp"
#include "fleet/webhook_status.hpp"
#include "store/database.hpp"
#include "store/token_cipher.hpp"

struct sqlite3_stmt;

namespace greenfleet::store {

class SqliteStatement;

// The stored status columns shown beside an instance (NULL until the first probe).
struct StoredStatus {
  std::optional<std::string> state;
  std::optional<std::int64_t> state_since_ms;
  std::string attention = "none";
  std::optional<std::int64_t> last_checked_at_ms;
  std::optional<std::int64_t> last_ok_at_ms;
  int consecutive_failures = 0;
  std::optional<std::string> last_error_code;
  std::optional<std::string> last_error;
  std::optional<std::string> phone;
  std::optional<std::int64_t> next_check_at_ms;
};

struct InstanceRow {
  fleet::RegisteredInstance instance;
  StoredStatus status;
  // Kept in instance_webhooks; filled by WebhookRepository::fillStatus where it is shown.
  fleet::WebhookStatus webhook = fleet::WebhookStatus::unknown;
};

struct InstanceFilter {
  std::optional<std::string> state;          // exact upstream state; "unknown" = not yet probed
  std::optional<std::string> attention;      // exact attention name
  std::optional<std::string> tag;            // instances carrying this tag
  std::optional<std::string> name_contains;  // case-insensitive substring of the name
  std::size_t limit = 100;
  std::optional<std::int64_t> after_id;  // keyset cursor: ids strictly greater
};

struct InstancePage {
  std::vector<InstanceRow> items;
  std::optional<std::int64_t> next_after_id;  // present when more rows follow
  std::int64_t total = 0;                     // rows matching the filter, ignoring the cursor
};

struct InstancePatch {
  std::optional<std::string> api_url;
  std::optional<std::string> token;
  std::optional<std::string> name;
  std::optional<std::vector<std::string>> tags;
  std::optional<bool> enabled;
};

struct DuplicateInstance {
  std::size_t index = 0;  // position in the batch
  std::int64_t id = 0;
};

class InstanceRepository {
 public:
  // `cipher` must outlive the repository.
  InstanceRepository(Database& db, const base::Clock& clock, const TokenCipher& cipher);

  // Inserts all or none; the first id already stored (or repeated in the batch) is the error.
  base::Result<std::vector<InstanceRow>, DuplicateInstance> create(
      std::vector<fleet::RegisteredInstance> instances);
  std::optional<InstanceRow> get(std::int64_t id);
  InstancePage list(const InstanceFilter& filter);
  std::optional<InstanceRow> update(std::int64_t id, const InstancePatch& patch);
  bool remove(std::int64_t id);
  std::int64_t count();
  // Streams every registered instance (token included) with its stored status to `sink`, in id
  // order: the scheduler resumes from this at start. Reads throw SecretsError for a token the
  // cipher cannot open (never an empty token).
  void forEachRow(const std::function<void(const InstanceRow&)>& sink);
  // As forEachRow, but a token reaches `sink` as stored, `sealed` when it still has to be opened
  // with openSealedToken() — on another thread if the caller likes (start-up opens them on its
  // pipeline's second thread). The key id is checked here (SecretsError). The row is reused for
  // the next one: `sink` may change it (forEachRow opens the token in it).
  void forEachSealedRow(const std::function<void(InstanceRow&, bool sealed)>& sink);
  // Opens in place a token forEachSealedRow handed over sealed; SecretsError when it does not
  // decrypt. Thread-safe.
  void openSealedToken(fleet::RegisteredInstance& instance) const;

 private:
  void openToken(sqlite3_stmt* stmt, InstanceRow& row) const;
  std::vector<InstanceRow> readRows(SqliteStatement& stmt) const;

  Database& db_;
  const base::Clock& clock_;
  const TokenCipher& cipher_;
};

// The columns every instance read selects, in the order readInstanceRow reads them (then the
// token's key id, column 18); without the token, its columns are NULL (readers that must never
// hold one).
// `with_token_key_id` false reads NULL for it (a database from before migration 0004).
std::string instanceSelectSql(bool with_token, bool with_token_key_id = true);
// Fills `row` from the current row of a statement over instanceSelectSql(), reusing its strings.
// `lenient_tags`: a tags column that is not a JSON array of strings reads as no tags instead of
// throwing Poco::Exception.
void readInstanceRow(sqlite3_stmt* stmt, InstanceRow& row, bool lenient_tags);
class SqliteStatement;
// Binds parameters 1-7 of an insert into instances (id, api_url, token, name, tags, created_at,
// updated_at): every registration writes its columns (and its token, sealed by `cipher`; the
// caller binds token_key_id = cipher.keyId()) the same way.
void bindInstanceColumns(SqliteStatement& insert, const fleet::RegisteredInstance& in,
                         std::int64_t now_ms, const TokenCipher& cipher);
// Opens in place a token read from the current row, whose token_key_id is column
// `key_id_column`: NULL leaves it as is (clear, not sealed yet); SecretsError for another key.
void openStoredToken(const TokenCipher& cipher, sqlite3_stmt* stmt, int key_id_column,
                     std::int64_t id, std::string& token, TokenOwner owner = TokenOwner::instance);
// Whether the token of the current row is sealed (its token_key_id, column `key_id_column`, is
// not NULL); SecretsError when another key sealed it.
bool storedTokenSealed(const TokenCipher& cipher, sqlite3_stmt* stmt, int key_id_column,
                       std::int64_t id, TokenOwner owner = TokenOwner::instance);

}  // namespace greenfleet::store
