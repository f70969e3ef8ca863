#include "store/stored_tokens.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "fleet/log.hpp"
#include "store/sqlite_statement.hpp"
#include "store/webhook_repository.hpp"

using namespace Poco::Data::Keywords;

namespace greenfleet::store {

namespace {
const fleet::Log kLog{"store"};

// Rows are read in id order, a batch at a time, and rewritten before the next batch is read:
// the scan never runs over rows it has just updated, and a million rows never sit in memory.
constexpr std::int64_t kBatchRows = 10000;

struct StoredToken {
  std::int64_t id = 0;
  std::string token;
  std::int64_t sealing_id = 0;  // the associated data it is sealed with
};

// A table holding sealed tokens in columns token and token_key_id, keyed by instance id.
struct TokenTable {
  const char* name;
  std::int64_t (*sealing_id)(std::int64_t id);
};
const TokenTable kInstanceTokens{"instances", [](std::int64_t id) { return id; }};
const TokenTable kWebhookTokens{"instance_webhooks", &WebhookRepository::sealingId};

// rewriteTokens' work on one table, inside its transaction.
std::int64_t rewriteTable(sqlite3* handle, const TokenTable& table,
                          const std::optional<std::string>& key_id,
                          const std::function<std::string(const StoredToken&)>& rewrite,
                          const std::string& new_key_id) {
  SqliteStatement select(
      handle, fmt::format("SELECT id, token FROM {} WHERE id > ? AND {} "
                          "ORDER BY id LIMIT ?",
                          table.name, key_id ? "token_key_id = ?" : "token_key_id IS NULL"));
  SqliteStatement update(
      handle, fmt::format("UPDATE {} SET token = ?, token_key_id = ? WHERE id = ?", table.name));
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
      row.sealing_id = table.sealing_id(row.id);
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

// Calls `rewrite` for each row whose key id is `key_id` (nullopt: clear rows) inside one write
// transaction with secure_delete on; `before_commit` runs before COMMIT. Returns rows visited.
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
    for (const auto& table : tables) {
      rewritten += rewriteTable(handle, table, key_id, rewrite, new_key_id);
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
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT token_key_id FROM instances WHERE token_key_id IS NOT NULL LIMIT 1");
  return stmt.step() ? columnOptText(stmt.get(), 0) : std::nullopt;
}

std::int64_t StoredTokens::countSealedBy(const std::string& key_id) {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT COUNT(*) FROM instances WHERE token_key_id = ?");
  stmt.bind(1, key_id);
  return stmt.step() ? sqlite3_column_int64(stmt.get(), 0) : 0;
}

bool StoredTokens::hasClear() {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT 1 FROM instances WHERE token_key_id IS NULL LIMIT 1");
  return stmt.step();
}

std::int64_t StoredTokens::sealClear(const TokenCipher& cipher) {
  return rewriteTokens(
      db_, {kInstanceTokens}, std::nullopt,
      [&](const StoredToken& row) { return cipher.seal(row.token, row.sealing_id); },
      cipher.keyId(), nullptr);
}

std::int64_t StoredTokens::reseal(const TokenCipher& from, const TokenCipher& to,
                                  const std::function<void()>& before_commit) {
  // Webhook tokens (migration 0007) move to the new key in the same transaction.
  return rewriteTokens(
      db_, {kInstanceTokens, kWebhookTokens}, from.keyId(),
      [&](const StoredToken& row) {
        return to.seal(from.openOrThrow(row.token, row.sealing_id), row.sealing_id);
      },
      to.keyId(), before_commit);
}

}  // namespace greenfleet::store
