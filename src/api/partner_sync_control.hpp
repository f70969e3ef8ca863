#pragma once
// PartnerSyncControl: what the API may ask of the running partner sync (implemented by the
// composition root's sync runner): an on-demand sync, news of account changes, and a summary for
// /summary. Implementations are thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "fleet/partner_sync_result.hpp"

namespace greenfleet::api {

struct SyncAttempt {
  enum class Kind {
    done,      // the partner API was called; `result` says how it went
    too_soon,  // paced: `retry_after` until the next call is allowed
    unknown,   // no such account
    stopped,   // the service is shutting down
  };
  Kind kind = Kind::done;
  fleet::PartnerSyncResult result;
  std::chrono::milliseconds retry_after{0};
};

struct PartnersSummary {
  std::size_t accounts = 0;
  std::size_t failing = 0;                      // accounts whose last sync failed
  std::optional<std::int64_t> last_sync_at_ms;  // newest sync of any account
  std::size_t added = 0;                        // summed over the accounts' last syncs
  std::size_t updated = 0;
  std::size_t expired = 0;
  std::size_t skipped = 0;
  std::size_t errors = 0;
};

class PartnerSyncControl {
 public:
  virtual ~PartnerSyncControl() = default;
  // Runs a sync of account `id` now unless paced, and waits for it. `actor`: the API key name.
  virtual SyncAttempt syncNow(std::int64_t id, const std::string& actor) = 0;
  // An account was created or changed (token, URL): synced soon, backoff forgotten.
  virtual void accountChanged(std::int64_t id) = 0;
  virtual void accountRemoved(std::int64_t id) = 0;
  virtual PartnersSummary summary() const = 0;
};

}  // namespace greenfleet::api
