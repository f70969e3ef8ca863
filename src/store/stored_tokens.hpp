#pragma once
// StoredTokens: the token columns under the key as a whole (instances.token, and since migration
// 0007 partners.partner_token), for the key checks of start-up and for `greenfleet secrets
// rotate`: which keys sealed how many rows, sealing the clear rows left by migrations 0004 and
// 0007, re-sealing every row of both tables under a new key. Each rewrite is one transaction run
// with secure_delete on and followed by a WAL checkpoint, so neither the old clear text nor the
// old ciphertext stays in the file's free space or in the WAL. Thread-safe like Database, but
// meant for start-up and offline commands.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "store/database.hpp"
#include "store/token_cipher.hpp"

namespace greenfleet::store {

class StoredTokens {
 public:
  explicit StoredTokens(Database& db);

  // Instance rows per key id that sealed them; clear rows (not yet sealed) count under "". Scans
  // the instances table.
  std::map<std::string, std::int64_t> countByKeyId();
  // The key id of one sealed row of either table (nullopt: none is sealed). One transaction seals
  // or re-seals every row, so one row tells the key of all; O(1) on a sealed table, for start-up.
  std::optional<std::string> sampleKeyId();
  // Rows of both tables sealed by `key_id`.
  std::int64_t countSealedBy(const std::string& key_id);
  // Whether a row of either table is still in clear (through the partial indexes of 0004, 0007).
  bool hasClear();
  // Seals every clear row of both tables with `cipher`, all in one transaction; returns how many.
  std::int64_t sealClear(const TokenCipher& cipher);
  // Opens every row sealed by `from` and seals it with `to`, all in one transaction: instance
  // and partner tokens and the webhook tokens of instance_webhooks alike.
  // `before_commit` runs once every row is rewritten, just before COMMIT (rotate replaces the
  // key file there); if it throws, nothing is committed. Throws SecretsError for a row `from`
  // cannot open. Returns how many tokens were re-sealed.
  std::int64_t reseal(const TokenCipher& from, const TokenCipher& to,
                      const std::function<void()>& before_commit);

 private:
  Database& db_;
};

}  // namespace greenfleet::store
