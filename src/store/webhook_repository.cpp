#include "store/webhook_repository.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

#include "store/sqlite_statement.hpp"

namespace greenfleet::store {

WebhookRepository::WebhookRepository(Database& db, const TokenCipher& cipher)
    : db_(db), cipher_(cipher) {}

std::optional<InstanceWebhook> WebhookRepository::get(std::int64_t id) {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT token, token_key_id, url, status, checked_at "
                       "FROM instance_webhooks WHERE id = ?");
  stmt.bind(1, id);
  if (!stmt.step()) return std::nullopt;
  InstanceWebhook out;
  if (auto sealed = columnOptText(stmt.get(), 0)) {
    if (columnOptText(stmt.get(), 1) != cipher_.keyId()) {
      throw SecretsError(fmt::format(
          "secrets: the webhook token of instance {} was not sealed by the loaded key (id {})", id,
          cipher_.keyId()));
    }
    out.token = cipher_.openOrThrow(*sealed, sealingId(id));
  }
  out.url = columnOptText(stmt.get(), 2);
  out.status = fleet::parseWebhookStatus(columnOptText(stmt.get(), 3).value_or(""))
                   .value_or(fleet::WebhookStatus::unknown);
  out.checked_at_ms = columnOptInt(stmt.get(), 4);
  return out;
}

std::optional<std::string> WebhookRepository::token(std::int64_t id) {
  const auto row = get(id);
  return row ? row->token : std::nullopt;
}

std::optional<std::string> WebhookRepository::tokenFor(std::int64_t id, const std::string& url,
                                                       std::int64_t now_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  sqlite3* handle = sqliteHandle(*session);
  {
    SqliteStatement exists(handle, "SELECT 1 FROM instances WHERE id = ?");
    exists.bind(1, id);
    if (!exists.step()) return std::nullopt;
  }
  std::optional<std::string> token;
  {
    SqliteStatement stmt(handle, "SELECT token, token_key_id FROM instance_webhooks WHERE id = ?");
    stmt.bind(1, id);
    if (stmt.step()) {
      const auto sealed = columnOptText(stmt.get(), 0);
      // A token sealed by another key cannot be read back: a fresh one replaces it.
      if (sealed && columnOptText(stmt.get(), 1) == cipher_.keyId()) {
        token = cipher_.open(*sealed, sealingId(id));
      }
    }
  }
  // 64 hex digits from getrandom: the same 256 random bits a secrets key is made of.
  if (!token) token = TokenCipher::formatKey(TokenCipher::generateKey());
  SqliteStatement upsert(handle,
                         "INSERT INTO instance_webhooks(id, token, token_key_id, url, updated_at) "
                         "VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                         "token = excluded.token, token_key_id = excluded.token_key_id, "
                         "url = excluded.url, updated_at = excluded.updated_at");
  upsert.bind(1, id);
  upsert.bind(2, cipher_.seal(*token, sealingId(id)));
  upsert.bind(3, cipher_.keyId());
  upsert.bind(4, url);
  upsert.bind(5, now_ms);
  upsert.execute();
  tx.commit();
  return token;
}

void WebhookRepository::setStatus(std::int64_t id, fleet::WebhookStatus status,
                                  std::int64_t now_ms) {
  auto session = db_.acquire();
  WriteTransaction tx(*session);
  SqliteStatement upsert(sqliteHandle(*session),
                         "INSERT INTO instance_webhooks(id, status, checked_at, updated_at) "
                         "SELECT id, ?, ?, ? FROM instances WHERE id = ? "
                         "ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
                         "checked_at = excluded.checked_at, updated_at = excluded.updated_at");
  upsert.bind(1, fleet::webhookStatusName(status));
  upsert.bind(2, now_ms);
  upsert.bind(3, now_ms);
  upsert.bind(4, id);
  upsert.execute();
  tx.commit();
}

void WebhookRepository::fillStatus(std::vector<InstanceRow>& rows) {
  if (rows.empty()) return;
  std::string ids = "[";
  std::map<std::int64_t, InstanceRow*> by_id;
  for (auto& row : rows) {
    if (ids.size() > 1) ids += ',';
    ids += std::to_string(row.instance.id);
    by_id[row.instance.id] = &row;
  }
  ids += ']';
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT id, status FROM instance_webhooks "
                       "WHERE id IN (SELECT value FROM json_each(?))");
  stmt.bind(1, ids);
  while (stmt.step()) {
    const auto it = by_id.find(sqlite3_column_int64(stmt.get(), 0));
    if (it == by_id.end()) continue;
    it->second->webhook = fleet::parseWebhookStatus(columnOptText(stmt.get(), 1).value_or(""))
                              .value_or(fleet::WebhookStatus::unknown);
  }
}

void WebhookRepository::fillStatus(InstanceRow& row) {
  std::vector<InstanceRow> one{std::move(row)};
  fillStatus(one);
  row = std::move(one.front());
}

std::map<fleet::WebhookStatus, std::int64_t> WebhookRepository::countByStatus() {
  auto session = db_.acquire();
  SqliteStatement stmt(sqliteHandle(*session),
                       "SELECT status, COUNT(*) FROM instance_webhooks GROUP BY status");
  std::map<fleet::WebhookStatus, std::int64_t> out;
  for (std::size_t i = 0; i < fleet::kWebhookStatusCount; ++i) {
    out[static_cast<fleet::WebhookStatus>(i)] = 0;
  }
  while (stmt.step()) {
    const auto status = fleet::parseWebhookStatus(columnOptText(stmt.get(), 0).value_or(""))
                            .value_or(fleet::WebhookStatus::unknown);
    out[status] += sqlite3_column_int64(stmt.get(), 1);
  }
  return out;
}

}  // namespace greenfleet::store
