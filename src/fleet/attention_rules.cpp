#include "fleet/attention_rules.hpp"

#include <algorithm>

namespace greenfleet::fleet {

Duration AttentionRules::staleAfter(StateKind kind) const {
  Duration interval = probes.intervalFor(kind);
  if (interval <= Duration::zero()) interval = probes.startupSpread;
  return interval * staleAfterIntervals;
}

Attention deriveAttention(const InstanceStatus& s, SteadyTime now, const AttentionRules& rules) {
  if (s.firstAuthFailureAt) {
    const SteadyTime anchor = std::max(s.registeredAt, s.lastOkAt.value_or(s.registeredAt));
    if (now - anchor >= rules.authGrace) return Attention::credentialsRejected;
  }
  const StateKind kind = s.state.kind();
  if (kind == StateKind::blocked) return Attention::blocked;
  if (kind == StateKind::notAuthorized || s.qrOffered) return Attention::needsScan;
  if (kind == StateKind::suspended || kind == StateKind::yellowCard) return Attention::suspended;
  // initializing is a kind of starting: Green API says creation takes up to 5 min (§4).
  if ((kind == StateKind::starting || kind == StateKind::sleepMode ||
       kind == StateKind::initializing) &&
      now - s.stateSince > rules.stuckStartingAfter) {
    return Attention::stuckStarting;
  }
  if (s.consecutiveFailures >= rules.unreachableAfterFailures) return Attention::unreachable;
  const SteadyTime last_answer = s.lastReadingAt.value_or(s.registeredAt);
  if (now - last_answer > rules.staleAfter(kind)) return Attention::stale;
  return Attention::none;
}

bool needsScan(const InstanceStatus& status, SteadyTime now, const AttentionRules& rules) {
  return deriveAttention(status, now, rules) == Attention::needsScan;
}

}  // namespace greenfleet::fleet
