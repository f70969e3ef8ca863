#pragma once
// Observation and applyObservation: the fold of one probe result (or webhook) into an
// InstanceStatus. Implements "confirm before alarm" (DESIGN §4): a reading that would make the
// attention worse is held as `pending` until a second agreeing reading arrives, while
// `lastObservedState` shows it at once; readings that improve things are adopted immediately.
// Green API itself has reported notAuthorized for authorized accounts (issues #662, #777).
// Pure functions over value types.

#include <optional>
#include <string>

#include "fleet/attention_rules.hpp"
#include "fleet/instance_status.hpp"
#include "fleet/outcome_kind.hpp"
#include "fleet/qr_kind.hpp"

namespace greenfleet::fleet {

using base::Duration;
using base::SteadyTime;

struct Observation {
  SteadyTime at{};
  OutcomeKind outcome = OutcomeKind::ok;
  ReadingSource source = ReadingSource::poll;
  // Set when the answer told us the state: getStateInstance/getWaSettings (a `null` body is
  // InstanceState::initializing()), a webhook, or a 400 whose text the client recognised
  // ("instance in starting process" → starting; issue #571).
  std::optional<InstanceState> state;
  std::optional<QrKind> qr;          // set for an answer of the qr method
  std::optional<std::string> phone;  // getWaSettings
  std::string error;                 // short text for non-ok outcomes; never a token
  Duration took{};
};

// A change of the confirmed state: one state_events row.
struct StateTransition {
  InstanceState from;
  InstanceState to;
  SteadyTime at{};  // when the new state was first seen (before its confirmation)
  ReadingSource source = ReadingSource::poll;
};

struct ObservationResult {
  InstanceStatus status;
  std::optional<StateTransition> transition;
  Attention previousAttention = Attention::none;
  bool attentionChanged = false;
  // A worse reading is pending: probe again a few seconds later to confirm or dismiss it.
  bool confirmationNeeded = false;
};

ObservationResult applyObservation(InstanceStatus status, const Observation& obs,
                                   const AttentionRules& rules);

}  // namespace greenfleet::fleet
