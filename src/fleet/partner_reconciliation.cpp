#include "fleet/partner_reconciliation.hpp"

#include <unordered_set>

#include <fmt/format.h>

#include "fleet/api_url_template.hpp"

namespace greenfleet::fleet {

namespace {
std::optional<std::string> unusable(const PartnerInstance& item) {
  if (auto e = validateInstanceId(item.id)) return fmt::format("idInstance {}", *e);
  if (auto e = validateToken(item.token))
    return fmt::format("instance {}: apiTokenInstance {}", item.id, *e);
  if (auto e = validateName(item.name)) return fmt::format("instance {}: name {}", item.id, *e);
  return std::nullopt;
}
}  // namespace

ReconciliationPlan planReconciliation(const std::vector<PartnerInstance>& listed,
                                      const PartnerDefaults& partner,
                                      const KnownInstanceLookup& lookup) {
  ReconciliationPlan plan;
  std::unordered_set<std::int64_t> seen;
  for (const auto& item : listed) {
    if (auto problem = unusable(item)) {
      plan.errors.push_back(std::move(*problem));
      continue;
    }
    if (!seen.insert(item.id).second) {
      plan.errors.push_back(
          fmt::format("instance {} is listed twice; the first entry counts", item.id));
      continue;
    }
    const auto known = lookup(item.id);
    if (known && known->partner_id != partner.partner_id) {
      ++plan.not_managed;
      continue;
    }
    if (item.type != kPolledInstanceType) {
      plan.skipped.push_back({item.id, item.type});
      continue;
    }
    const bool gone = item.deleted || item.expired;
    if (!known) {
      if (gone) continue;  // never registered, nothing to keep
      RegisteredInstance in;
      in.id = item.id;
      in.token = item.token;
      in.name = item.name;
      in.tags = partner.tags;
      in.api_url = expandApiUrlTemplate(partner.api_url_template, item.id);
      plan.added.push_back(std::move(in));
    } else if (gone) {
      if (known->expired) {
        ++plan.unchanged;
      } else {
        plan.expired.push_back(item.id);
      }
    } else if (known->expired) {
      plan.restored.push_back({item.id, item.token});
    } else if (known->token != item.token) {
      plan.token_changes.push_back({item.id, item.token});
    } else {
      ++plan.unchanged;
    }
  }
  return plan;
}

}  // namespace greenfleet::fleet
