#include "store/stored_tokens.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include <iterator>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "base/log.hpp"
#include "store/sqlite_statement.hpp"
#include "store/webhook_repository.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

namespace {
const base::Log kLog{"store"};

// Rows are read in id order, a batch at a time, and rewritten before the next batch is read:
// the scan never runs over rows it has just updated, and a million rows never sit in memory.
constexpr std::int64_t kBatchRows = 10000;

struct StoredToken {
  std::int64_t id = 0;
  std::string token;
  TokenOwner owner = TokenOwner::instance;
  std::int64_t sealing_id = 0;  // the id in its associated data
};

// A token column under the key: instance tokens (migration 0004), partner tokens (0007) and the
// webhook tokens of configure-webhook (0008, sealed under the negated instance id).
struct TokenTable {
  const char* table;
  const char* column;
  TokenOwner owner;
  std::int64_t (*sealing_id)(std::int64_t id);
};
std::int64_t ownId(std::int64_t id) { return id; }
constexpr TokenTable kInstanceTokens{"instances", "token", TokenOwner::instance, &ownId};
constexpr TokenTable kPartnerTokens{"partners", "partner_token", TokenOwner::partner, &ownId};
constexpr TokenTable kWebhookTokens{"instance_webhooks", "token", TokenOwner::instance,
                                    &WebhookRepository::sealingId};
// The tables that may hold clear rows from before encryption, and that start-up checks.
constexpr TokenTable kTokenTables[] = {kInstanceTokens, kPartnerTokens};

// Sums a one-number query run once per table; `sql` names the table and column as {0} and {1}.
std::int64_t sumOverTables(Database& db, const char* sql, const std::string* key_id) {
  auto session = db.acquire();
  std::int64_t total = 0;
  for (const auto& t : kTokenTables) {
    SqliteStatement stmt(sqliteHandle(*session), fmt::format(fmt::runtime(sql), t.table, t.column));
    if (key_id != nullptr) stmt.bind(1, *key_id);
    if (stmt.step()) total += sqlite3_column_int64(stmt.get(), 0);
  }
  return total;
}

// Rewrites the rows of one token table whose key id is `key_id` (nullopt: clear rows).
std::int64_t rewriteTable(sqlite3* handle, const TokenTable& t,
                          const std::optional<std::string>& key_id,
                          const std::function<std::string(const StoredToken&)>& rewrite,
                          const std::string& new_key_id) {
  SqliteStatement select(
      handle, fmt::format("SELECT id, {} FROM {} WHERE id > ? AND {} ORDER BY "
                          "id LIMIT ?",
                          t.column, t.table, key_id ? "token_key_id = ?" : "token_key_id IS NULL"));
  SqliteStatement update(handle, fmt::format("UPDATE {} SET {} = ?, token_key_id = ? WHERE id = ?",
                                             t.table, t.column));
  std::int64_t rewritten = 0;
  std::vector<StoredToken> batch;
  std::int64_t after = std::numeric_limits<std::int64_t>::min();
  do {
    batch.clear();
    select.reset();
    select.bind(1, after);
    int index = 2;
    if (key_id) select.bind(index++, *key_id);
    select.bind(index, kBatchRows);
    while (select.step()) {
      auto& row = batch.emplace_back();
      row.id = sqlite3_column_int64(select.get(), 0);
      row.owner = t.owner;
      row.sealing_id = t.sealing_id(row.id);
      columnTextInto(select.get(), 1, row.token);
    }
    for (const auto& row : batch) {
      update.bind(1, rewrite(row));
      update.bind(2, new_key_id);
      update.bind(3, row.id);
      update.execute();
      after = row.id;
    }
    rewritten += static_cast<std::int64_t>(batch.size());
  } while (static_cast<std::int64_t>(batch.size()) == kBatchRows);
  return rewritten;
}

// Calls `rewrite` for each row of `tables` whose key id is `key_id` (nullopt: clear rows) inside
// one write transaction with secure_delete on; `before_commit` runs before COMMIT. Returns rows
// visited.
std::int64_t rewriteTokens(Database& db, const std::vector<TokenTable>& tables,
                           const std::optional<std::string>& key_id,
                           const std::function<std::string(const StoredToken&)>& rewrite,
                           const std::string& new_key_id,
                           const std::function<void()>& before_commit) {
  auto session = db.acquire();
  // Freed cells and pages are zeroed: the old token bytes do not linger in the file.
  *session << "PRAGMA secure_delete = ON", now;
  std::int64_t rewritten = 0;
  {
    WriteTransaction tx(*session);
    sqlite3* handle = sqliteHandle(*session);
    for (const auto& t : tables) {
      rewritten += rewriteTable(handle, t, key_id, rewrite, new_key_id);
    }
    if (before_commit) before_commit();
    tx.commit();
  }
  // Committed: nothing after this may throw, or a caller would undo what COMMIT made final
  // (rotate moves the old key file back when reseal throws).
  try {
    *session << "PRAGMA secure_delete = OFF", now;
    // The rewritten pages move into the main file and the WAL is emptied.
    *session << "PRAGMA wal_checkpoint(TRUNCATE)", now;
  } catch (const std::exception& e) {
    kLog.warn("event=token_checkpoint_failed error=\"{}\"", e.what());
  }
  return rewritten;
}
}  // namespace

StoredTokens::StoredTokens(Database& db) : db_(db) {}

std::map<std::string, std::int64_t> StoredTokens::countByKeyId() {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT COALESCE(token_key_id, ''), COUNT(*) FROM instances "
                       "GROUP BY token_key_id");
  std::map<std::string, std::int64_t> out;
  while (stmt.step()) {
    std::string key_id;
    columnTextInto(stmt.get(), 0, key_id);
    out[key_id] += sqlite3_column_int64(stmt.get(), 1);
  }
  return out;
}

std::optional<std::string> StoredTokens::sampleKeyId() {
  auto session = db_.acquire();
  for (const auto& t : kTokenTables) {
    SqliteStatement stmt(
        sqliteHandle(*session),
        fmt::format("SELECT token_key_id FROM {} WHERE token_key_id IS NOT NULL LIMIT 1", t.table));
    if (stmt.step()) return columnOptText(stmt.get(), 0);
  }
  return std::nullopt;
}

std::int64_t StoredTokens::countSealedBy(const std::string& key_id) {
  return sumOverTables(db_, "SELECT COUNT(*) FROM {0} WHERE token_key_id = ?", &key_id);
}

bool StoredTokens::hasClear() {
  return sumOverTables(db_, "SELECT EXISTS (SELECT 1 FROM {0} WHERE token_key_id IS NULL)",
                       nullptr) > 0;
}

std::int64_t StoredTokens::sealClear(const TokenCipher& cipher) {
  return rewriteTokens(
      db_, {std::begin(kTokenTables), std::end(kTokenTables)}, std::nullopt,
      [&](const StoredToken& row) { return cipher.seal(row.token, row.sealing_id, row.owner); },
      cipher.keyId(), nullptr);
}

std::int64_t StoredTokens::reseal(const TokenCipher& from, const TokenCipher& to,
                                  const std::function<void()>& before_commit) {
  // Partner and webhook tokens move to the new key in the same transaction.
  return rewriteTokens(
      db_, {kInstanceTokens, kPartnerTokens, kWebhookTokens}, from.keyId(),
      [&](const StoredToken& row) {
        return to.seal(from.openOrThrow(row.token, row.sealing_id, row.owner), row.sealing_id,
                       row.owner);
      },
      to.keyId(), before_commit);
}

}  // namespace greenfleet::store
