#pragma once
// planReconciliation: what a partner sync changes in the registry, decided from the partner's
// getInstances listing and what the registry already holds for those ids. Pure: the store
// applies the plan in one transaction, the sync runner tells the poller and the event log.
//
// Rules: an id registered by hand (or by another partner account) is never touched; only
// typeInstance "whatsapp" is polled, other types are listed as skipped; a new live instance is
// registered with the partner's tags and the templated apiUrl; a changed token is updated;
// `deleted` or `isExpired` marks one of ours expired (never removed: its history stays); an
// expired one of ours that is live again is restored. Items that cannot be used (bad id or
// token) are errors, named by id only — never by token.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fleet/partner_instance.hpp"
#include "fleet/registered_instance.hpp"

namespace greenfleet::fleet {

// What the registry holds for an id the partner lists.
struct KnownInstance {
  std::optional<std::int64_t> partner_id;  // nullopt: registered by hand
  std::string token;
  bool expired = false;
};

struct PartnerDefaults {
  std::int64_t partner_id = 0;
  std::vector<std::string> tags;
  std::string api_url_template;
};

struct InstanceTokenChange {
  std::int64_t id = 0;
  std::string token;
};

struct ReconciliationPlan {
  std::vector<RegisteredInstance> added;
  std::vector<InstanceTokenChange> token_changes;  // ours, live, token rotated upstream
  std::vector<std::int64_t> expired;               // ours, now deleted or expired upstream
  std::vector<InstanceTokenChange> restored;       // ours, expired before, live again
  std::vector<SkippedInstance> skipped;            // not whatsapp: never polled
  std::vector<std::string> errors;                 // unusable items (no token in the text)
  std::size_t unchanged = 0;
  std::size_t not_managed = 0;  // registered by hand or by another partner account: left alone
  bool changesRegistry() const {
    return !added.empty() || !token_changes.empty() || !expired.empty() || !restored.empty();
  }
};

using KnownInstanceLookup = std::function<std::optional<KnownInstance>(std::int64_t id)>;

ReconciliationPlan planReconciliation(const std::vector<PartnerInstance>& listed,
                                      const PartnerDefaults& partner,
                                      const KnownInstanceLookup& lookup);

}  // namespace greenfleet::fleet
