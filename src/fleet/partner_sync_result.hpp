#pragma once
// PartnerSyncResult: what one sync of a partner account did (or why it failed), kept with the
// account and shown by the API, /summary and the dashboard. Value type.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fleet/partner_instance.hpp"

namespace greenfleet::fleet {

struct PartnerSyncResult {
  std::int64_t at_ms = 0;  // unix milliseconds, when the sync finished
  bool ok = false;         // the partner API answered with a listing
  std::size_t listed = 0;  // items in the listing
  std::size_t added = 0;
  std::size_t updated = 0;  // tokens rotated, expired ones live again
  std::size_t expired = 0;
  std::size_t unchanged = 0;
  std::size_t not_managed = 0;  // registered by hand or by another account: left alone
  std::vector<SkippedInstance> skipped;
  std::vector<std::string> errors;  // the call's failure, or unusable items; never a token
};

}  // namespace greenfleet::fleet
