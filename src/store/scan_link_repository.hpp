#pragma once
// ScanLinkRepository: public scan links (/s/{token}) of instances. A link's token is 256 random
// bits, base64url, handed out once by create(); only its SHA-256 is stored, so the database
// cannot give a link back. A link is live until it expires, is revoked, or ends because its
// instance became authorized; ended links stay as rows (for the event trail) and are deleted
// with their instance. Thread-safe (each call leases its own connection); writes commit before
// they return.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace greenfleet::store {

struct ScanLink {
  std::int64_t id = 0;
  std::int64_t instance_id = 0;
  std::string hint;  // the token's last 4 characters
  std::int64_t created_at_ms = 0;
  std::string created_by;  // API key name
  std::int64_t expires_at_ms = 0;
  std::optional<std::int64_t> opened_at_ms;
  std::optional<std::int64_t> ended_at_ms;
  std::optional<std::string> end_reason;  // revoked | authorized

  bool isLive(std::int64_t now_ms) const { return !ended_at_ms && now_ms < expires_at_ms; }
};

struct CreatedScanLink {
  ScanLink link;
  std::string token;  // shown once, never stored
};

class ScanLinkRepository {
 public:
  explicit ScanLinkRepository(Database& db) : db_(db) {}

  static std::string hashToken(const std::string& token);

  CreatedScanLink create(std::int64_t instance_id, const std::string& created_by,
                         std::int64_t now_ms, std::int64_t expires_at_ms);
  // The link a token names, live or not; nullopt for a token never issued.
  std::optional<ScanLink> findByToken(const std::string& token);
  std::optional<ScanLink> get(std::int64_t link_id);
  // An instance's live links at `now_ms`, oldest first.
  std::vector<ScanLink> live(std::int64_t instance_id, std::int64_t now_ms);
  // Ends one live link of the instance; false when it is unknown, another instance's, expired or
  // ended already.
  bool end(std::int64_t instance_id, std::int64_t link_id, const std::string& reason,
           std::int64_t now_ms);
  // Ends every live link of the instance; returns the links ended.
  std::vector<ScanLink> endAll(std::int64_t instance_id, const std::string& reason,
                               std::int64_t now_ms);
  // Records the first open; true only the first time.
  bool markOpened(std::int64_t link_id, std::int64_t now_ms);
  // Deletes links that ended or expired before `cutoff_ms` (event retention); returns how many.
  std::size_t pruneOlderThan(std::int64_t cutoff_ms);
  // Whether the event log shows the instance becoming authorized at or after `since_ms`.
  bool authorizedSince(std::int64_t instance_id, std::int64_t since_ms);

 private:
  Database& db_;
};

}  // namespace greenfleet::store
