#pragma once
// ProbePolicy: how often an instance's state is probed (by state, DESIGN §5), the ±10 % jitter
// that keeps probes from synchronising, and the hash-of-id offset that spreads the first probes
// over one interval at start. Pure value type; jitter takes the caller's Rng.

#include <chrono>

#include "base/clock.hpp"
#include "base/random.hpp"
#include "fleet/instance_id.hpp"
#include "fleet/instance_state.hpp"

namespace greenfleet::fleet {

using base::Duration;
using base::Rng;

struct ProbePolicy {
  Duration authorized = std::chrono::seconds(60);
  Duration notAuthorized = std::chrono::seconds(30);
  Duration starting = std::chrono::seconds(15);  // also sleepMode and initializing
  Duration blocked = std::chrono::seconds(300);  // also suspended and yellowCard
  Duration other = std::chrono::seconds(60);     // a state string we do not know
  Duration unknown = Duration::zero();           // never read: probe now
  // Over what the first probes of instances loaded at start are spread when their interval is
  // zero (never read), so a restart with many never-probed instances is not a burst either.
  Duration startupSpread = std::chrono::seconds(60);
  double jitterFraction = 0.10;

  Duration intervalFor(StateKind kind) const;
  // intervalFor(kind) scaled by a uniform factor in [1 - jitter, 1 + jitter).
  Duration jitteredInterval(StateKind kind, Rng& rng) const;
  // Offset in [0, interval) from a hash of the id: deterministic, roughly uniform over a fleet.
  Duration firstProbeOffset(InstanceId id, StateKind kind) const;
};

// Scale `base` by a uniform factor in [1 - fraction, 1 + fraction).
Duration jitter(Duration base, double fraction, Rng& rng);

}  // namespace greenfleet::fleet
