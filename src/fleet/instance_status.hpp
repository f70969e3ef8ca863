#pragma once
// InstanceStatus: everything we know about one instance's health, as a plain snapshot. The
// confirmed `state` is what is stored and announced; `lastObservedState` is the raw latest
// reading (which may still await its confirmation, see observation.hpp). Times are steady time;
// the wiring converts to wall time for SQLite/JSON (TimeAnchor). Value type, no invariants beyond
// what applyObservation maintains.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "fleet/attention.hpp"
#include "fleet/instance_state.hpp"
#include "fleet/outcome_kind.hpp"

namespace greenfleet::fleet {

using base::Duration;
using base::SteadyTime;

// Where a reading came from; the `source` column of state_events.
enum class ReadingSource : std::uint8_t { poll, webhook, action };
std::string_view readingSourceName(ReadingSource source);

// A reading that would make attention worse, waiting for a second reading to confirm it.
struct PendingReading {
  InstanceState state;        // proposed confirmed state
  bool qrOffered = false;     // proposed qrOffered
  bool passkeyAsked = false;  // proposed passkeyAsked
  ReadingSource source = ReadingSource::poll;
  SteadyTime firstSeenAt{};
};

// The small members sit together: the scheduler keeps one of these per instance, and each 8 bytes
// count at a million instances (see ProbeScheduler::Entry's size budget).
struct InstanceStatus {
  InstanceState state;      // confirmed; unknown until the first reading
  SteadyTime stateSince{};  // when the confirmed state was first seen
  bool qrOffered = false;   // the qr method answered qrCode since the last state change
  // The qr method (or the scanqrcode socket) answered passkeyRequired since the last state change
  // or qrCode: the phone must confirm with its passkey, a QR cannot help. Not persisted, like
  // qrOffered: the next answer of a scan session sets it again.
  bool passkeyAsked = false;
  Attention attention = Attention::none;     // as derived at the last change; re-derive with `now`
  std::optional<OutcomeKind> lastErrorKind;  // of the last probe; cleared on success
  int consecutiveFailures = 0;               // outages in a row (isOutage)

  InstanceState lastObservedState;  // raw latest reading, confirmed or not
  std::optional<SteadyTime> lastObservedAt;
  std::optional<PendingReading> pending;

  SteadyTime registeredAt{};
  std::optional<SteadyTime> lastCheckedAt;  // any probe finished (any outcome)
  std::optional<SteadyTime> lastOkAt;       // last 2xx; anchors the 401 grace period
  std::optional<SteadyTime> lastReadingAt;  // last answer that told us a state; anchors `stale`
  std::optional<SteadyTime> firstAuthFailureAt;  // start of the current 401/403 streak
  std::string lastError;                         // short text, never a token
  Duration lastCheckDuration{};
  std::optional<std::string> phone;  // from getWaSettings, when authorized

  // A just-registered instance: state unknown since `registeredAt`.
  static InstanceStatus registered(SteadyTime registeredAt);
};

}  // namespace greenfleet::fleet
