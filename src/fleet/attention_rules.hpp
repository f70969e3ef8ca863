#pragma once
// AttentionRules: the thresholds of DESIGN §4 and the pure function that derives an instance's
// Attention from its status snapshot at `now`. Attention depends on time (grace periods,
// staleness), so readers that need it exact re-derive it rather than trust the stored value.

#include <chrono>
#include <optional>

#include "base/clock.hpp"
#include "fleet/attention.hpp"
#include "fleet/instance_status.hpp"
#include "fleet/probe_policy.hpp"

namespace greenfleet::fleet {

using base::Duration;
using base::SteadyTime;

struct AttentionRules {
  // 401 right after creation means "initializing", not a bad token (issue #306): give a new (or
  // recently healthy) instance this long before calling its credentials rejected.
  Duration authGrace = std::chrono::minutes(10);
  Duration stuckStartingAfter = std::chrono::minutes(10);
  int unreachableAfterFailures = 5;
  int staleAfterIntervals = 3;
  ProbePolicy probes;  // intervals by state, for staleness

  // How long without an answer before an instance in `kind` is stale.
  Duration staleAfter(StateKind kind) const;
};

Attention deriveAttention(const InstanceStatus& status, SteadyTime now,
                          const AttentionRules& rules);

// The earliest time after `now` at which deriveAttention(status, t, rules) may differ from its
// value at `now` with no new reading (a grace period ends, starting turns stuck, an answer turns
// stale); nullopt when it cannot change by time alone. May name a time at which nothing changes
// (a stale threshold behind a ban): callers re-derive then and ask again.
std::optional<SteadyTime> attentionChangesAt(const InstanceStatus& status, SteadyTime now,
                                             const AttentionRules& rules);

// What counts as needing a scan: the derived attention is needs_scan — confirmed notAuthorized
// (or a qrCode answer) and nothing more severe (a rejected token or a ban is not fixed by a scan).
bool needsScan(const InstanceStatus& status, SteadyTime now, const AttentionRules& rules);

}  // namespace greenfleet::fleet
