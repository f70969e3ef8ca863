#pragma once
// Report: the fleet's health at one moment, as a sweep (or the stored status) sees it — counts by
// state and by attention, every instance that needs attention (most severe first, then longest
// waiting first) and the instances a sweep could not probe. buildReport() derives it from stored
// rows; the server uses it for GET /report and finished sweeps, `greenfleet sweep --db` offline.
// Value types; buildReport is a pure function (thread-safe).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "store/instance_repository.hpp"

namespace greenfleet::sweep {

// One instance whose attention is not "none".
struct AttentionEntry {
  std::int64_t id = 0;
  std::string name;
  std::vector<std::string> tags;
  std::string state;      // upstream state verbatim; "unknown" when never read
  std::string attention;  // fleet::attentionName spelling (unknown names kept verbatim)
  std::optional<base::WallTime> since;  // when the current state began
  std::optional<std::string> last_error;
};

// One instance a sweep could not probe, and why ("timeout", "not_probed_yet", ...).
struct UnprobedEntry {
  std::int64_t id = 0;
  std::string name;
  std::string reason;
};

struct Report {
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> counts_by_state;      // only states that occur
  std::map<std::string, std::int64_t> counts_by_attention;  // all eight names, zeros included
  std::vector<AttentionEntry> attention;                    // ordered, see attentionOrder()
  std::vector<UnprobedEntry> unprobed;

  // counts_by_attention[name], 0 when absent.
  std::int64_t attentionCount(const std::string& name) const;
};

// Reason given for a stored instance that was never probed (state NULL).
inline constexpr const char* kNotProbedYet = "not_probed_yet";

// Builds a report from stored rows, using each row's stored `status.attention` as is (no
// re-derivation) and "unknown" for a NULL state. Disabled instances count in `total` and
// `countsByState` but as attention "none": nobody watches them, so they raise no alarm.
// Never-probed enabled instances are listed in `unprobed` (reason kNotProbedYet). `now` clamps
// `since` values from the future (a clock that stepped back) so ordering stays meaningful.
Report buildReport(const std::vector<store::InstanceRow>& rows, base::WallTime now);

// Sorts entries most severe attention first (credentials_rejected, blocked, needs_scan,
// suspended, stuck_starting, unreachable, stale, then unknown names), then longest waiting first
// (oldest `since`; unknown `since` last), then by id. buildReport already applies it; the server
// may use it when it merges probe results.
void sortAttention(std::vector<AttentionEntry>& entries);

}  // namespace greenfleet::sweep
