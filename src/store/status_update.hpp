#pragma once
// StatusUpdate: one observation of an instance as the status writer stores it — the whole
// instance_status row (an update replaces the row, it does not patch it) plus, when the state
// changed, the EventRow to append to state_events. States and attention are plain strings
// here (upstream stateInstance verbatim, attention name) so the store does not depend on fleet
// rules. Value types.

#include <cstdint>
#include <optional>
#include <string>

#include "store/event_row.hpp"

namespace greenfleet::store {

struct StatusUpdate {
  std::int64_t id = 0;  // idInstance
  std::optional<std::string> state;
  std::optional<std::int64_t> state_since_ms;
  bool needs_scan = false;
  std::string attention = "none";
  std::optional<std::int64_t> last_checked_at_ms;
  std::optional<std::int64_t> last_ok_at_ms;
  int consecutive_failures = 0;
  std::optional<std::string> last_error_code;
  std::optional<std::string> last_error;  // already scrubbed of tokens
  std::optional<std::string> phone;
  std::optional<std::int64_t> next_check_at_ms;
  std::optional<EventRow> transition;
  // Order of this instance's updates as decided (0 = unordered): the writer drops a row whose
  // seq is not above the last one it took for the instance.
  std::uint64_t seq = 0;
  // Every update with a lower seq has been enqueued already: the writer forgets older seqs.
  std::uint64_t seq_floor = 0;
};

}  // namespace greenfleet::store
