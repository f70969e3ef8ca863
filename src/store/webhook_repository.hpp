#pragma once
// WebhookRepository: the webhooks greenfleet set up on its instances (table instance_webhooks,
// migration 0008). Each instance configured through greenfleet has its own random
// webhookUrlToken, sealed at rest by the TokenCipher like the instance token (with the negated
// instance id as associated data, so a sealed apiTokenInstance moved into this table does not
// open), and the status the last getSettings showed. Callers see clear tokens only through
// token()/tokenFor(); nothing here logs one. Every write commits before it returns.
// Thread-safe (each call leases its own connection).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fleet/webhook_status.hpp"
#include "store/database.hpp"
#include "store/instance_repository.hpp"
#include "store/token_cipher.hpp"

namespace greenfleet::store {

struct InstanceWebhook {
  std::optional<std::string> token;  // clear webhookUrlToken; nullopt before greenfleet set one
  std::optional<std::string> url;    // webhookUrl greenfleet set
  fleet::WebhookStatus status = fleet::WebhookStatus::unknown;
  std::optional<std::int64_t> checked_at_ms;
};

class WebhookRepository {
 public:
  // `cipher` must outlive the repository.
  WebhookRepository(Database& db, const TokenCipher& cipher);

  // The associated data a webhook token of instance `id` is sealed with.
  static std::int64_t sealingId(std::int64_t id) { return -id; }

  std::optional<InstanceWebhook> get(std::int64_t id);
  // The instance's webhookUrlToken (the receiver's check); nullopt when greenfleet set none.
  std::optional<std::string> token(std::int64_t id);
  // The token to set with `url`: the stored one, or a new random one stored (sealed) first, so
  // a webhook Green API sends right after setSettings already authenticates. nullopt when the
  // instance is not registered.
  std::optional<std::string> tokenFor(std::int64_t id, const std::string& url, std::int64_t now_ms);
  // Records what getSettings showed (a row is made for an instance greenfleet never configured).
  void setStatus(std::int64_t id, fleet::WebhookStatus status, std::int64_t now_ms);
  // Sets InstanceRow::webhook of each row (one query for the lot).
  void fillStatus(std::vector<InstanceRow>& rows);
  void fillStatus(InstanceRow& row);
  // Rows per status, from the status index (instances without a row are not counted: the caller
  // knows the fleet's size and counts them as unknown, without a scan of a million rows).
  std::map<fleet::WebhookStatus, std::int64_t> countByStatus();

 private:
  Database& db_;
  const TokenCipher& cipher_;
};

}  // namespace greenfleet::store
