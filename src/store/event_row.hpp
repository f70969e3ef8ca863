#pragma once
// EventRow: one row of the event log (state_events) as it is appended, without the seq the
// database assigns. A state change has type "state_changed" and from/to states; other notable
// events (attention_changed, scan_session_started/ended, action) carry a detail and, for operator
// actions, the name of the API key that asked. Value type.

#include <cstdint>
#include <optional>
#include <string>

namespace greenfleet::store {

struct EventRow {
  std::int64_t at_ms = 0;  // unix milliseconds
  std::optional<std::string> from_state;
  std::optional<std::string> to_state;
  std::string source;  // poll | webhook | action
  std::string type = "state_changed";
  std::optional<std::string> detail;
  std::optional<std::string> actor;  // API key name, for operator actions
};

}  // namespace greenfleet::store
