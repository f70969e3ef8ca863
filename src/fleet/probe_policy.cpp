#include "fleet/probe_policy.hpp"

#include <cmath>
#include <cstdint>

namespace greenfleet::fleet {

using base::mix64;
using base::uniformUnit;

Duration ProbePolicy::intervalFor(StateKind kind) const {
  switch (kind) {
    case StateKind::authorized:
      return authorized;
    case StateKind::notAuthorized:
      return notAuthorized;
    case StateKind::starting:
    case StateKind::sleepMode:
    case StateKind::initializing:
      return starting;
    case StateKind::blocked:
    case StateKind::suspended:
    case StateKind::yellowCard:
      return blocked;
    case StateKind::other:
      return other;
    case StateKind::unknown:
      return unknown;
  }
  return other;
}

Duration ProbePolicy::jitteredInterval(StateKind kind, Rng& rng) const {
  return jitter(intervalFor(kind), jitterFraction, rng);
}

Duration ProbePolicy::firstProbeOffset(InstanceId id, StateKind kind) const {
  Duration over = intervalFor(kind);
  if (over <= Duration::zero()) over = startupSpread;
  if (over <= Duration::zero()) return Duration::zero();
  const auto h = mix64(static_cast<std::uint64_t>(id));
  return Duration(static_cast<Duration::rep>(h % static_cast<std::uint64_t>(over.count())));
}

Duration jitter(Duration base, double fraction, Rng& rng) {
  if (base <= Duration::zero() || fraction <= 0.0) return base;
  const double factor = 1.0 - fraction + 2.0 * fraction * uniformUnit(rng);
  return Duration(
      static_cast<Duration::rep>(std::llround(static_cast<double>(base.count()) * factor)));
}

}  // namespace greenfleet::fleet
