#pragma once
// PartnerRepository: partner accounts (table partners) and the registry writes of a partner sync.
// The partner token is a secret: sealed in the file like instance tokens (TokenOwner::partner),
// it is read only by get(…, with_token=true) for the sync itself.
// Every write commits before it returns; a sync's changes and its result commit together, so a
// crash leaves either the whole sync or none of it. Thread-safe (each call leases a connection).

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.hpp"
#include "base/result.hpp"
#include "fleet/partner_reconciliation.hpp"
#include "fleet/partner_sync_result.hpp"
#include "store/database.hpp"
#include "store/token_cipher.hpp"

namespace greenfleet::store {

struct PartnerAccount {
  std::int64_t id = 0;
  std::string name;
  std::string api_url;  // partnerApiUrl
  std::string token;    // partnerToken; empty unless read with_token
  std::string token_hint;
  std::vector<std::string> tags;
  std::string api_url_template;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<fleet::PartnerSyncResult> last_sync;
  std::int64_t instances = 0;          // registered by this account
  std::int64_t expired_instances = 0;  // of those, expired
};

struct PartnerPatch {
  std::optional<std::string> name;
  std::optional<std::string> api_url;
  std::optional<std::string> token;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::string> api_url_template;
};

struct DuplicatePartnerName {
  std::string name;
};

class PartnerRepository {
 public:
  // `cipher` seals the partner tokens and the instance tokens a sync writes, as
  // InstanceRepository does.
  PartnerRepository(Database& db, const base::Clock& clock, const TokenCipher& cipher);

  base::Result<PartnerAccount, DuplicatePartnerName> create(const PartnerAccount& account);
  std::optional<PartnerAccount> get(std::int64_t id, bool with_token = false);
  std::vector<PartnerAccount> list();
  // nullopt inside: no such account.
  base::Result<std::optional<PartnerAccount>, DuplicatePartnerName> update(
      std::int64_t id, const PartnerPatch& patch);
  // Its instances stay registered, as if registered by hand.
  bool remove(std::int64_t id);

  // What the registry holds for each of `ids` that is registered.
  std::unordered_map<std::int64_t, fleet::KnownInstance> known(
      const std::vector<std::int64_t>& ids);
  // Applies a sync's plan and stores its result, in one transaction. Instances registered by
  // hand in the meantime are left alone (the insert skips them). Returns the ids it inserted.
  std::vector<std::int64_t> applySync(std::int64_t partner_id,
                                      const fleet::ReconciliationPlan& plan,
                                      const fleet::PartnerSyncResult& result);
  // Stores the result of a failed sync (nothing else changes).
  void saveResult(std::int64_t partner_id, const fleet::PartnerSyncResult& result);

 private:
  Database& db_;
  const base::Clock& clock_;
  const TokenCipher& cipher_;
};

// The stored form of a sync result (JSON text); exposed for tests.
std::string encodeSyncResult(const fleet::PartnerSyncResult& result);
fleet::PartnerSyncResult decodeSyncResult(const std::string& json);

}  // namespace greenfleet::store
