#include "fleet/attention_rules.hpp"

#include <algorithm>

namespace greenfleet::fleet {

Duration AttentionRules::staleAfter(StateKind kind) const {
  Duration interval = probes.intervalFor(kind);
  if (interval <= Duration::zero()) interval = probes.startupSpread;
  return interval * staleAfterIntervals;
}

namespace {

// initializing is a kind of starting: Green API says creation takes up to 5 min (§4).
bool isStartingKind(StateKind kind) {
  return kind == StateKind::starting || kind == StateKind::sleepMode ||
         kind == StateKind::initializing;
}

// The three thresholds below are the only places deriveAttention reads `now`; keep them and
// attentionChangesAt in step.
SteadyTime authGraceEndsAt(const InstanceStatus& s, const AttentionRules& rules) {
  return std::max(s.registeredAt, s.lastOkAt.value_or(s.registeredAt)) + rules.authGrace;
}
SteadyTime stuckStartingAt(const InstanceStatus& s, const AttentionRules& rules) {
  return s.stateSince + rules.stuckStartingAfter;  // stuck once strictly later
}
SteadyTime staleAt(const InstanceStatus& s, const AttentionRules& rules) {
  return s.lastReadingAt.value_or(s.registeredAt) + rules.staleAfter(s.state.kind());
}

}  // namespace

Attention deriveAttention(const InstanceStatus& s, SteadyTime now, const AttentionRules& rules) {
  if (s.firstAuthFailureAt && now >= authGraceEndsAt(s, rules)) {
    return Attention::credentialsRejected;
  }
  const StateKind kind = s.state.kind();
  if (kind == StateKind::blocked) return Attention::blocked;
  // Asked while notAuthorized (a QR answer comes only then); any other state reading clears it.
  if (s.passkeyAsked) return Attention::passkeyRequired;
  if (kind == StateKind::notAuthorized || s.qrOffered) return Attention::needsScan;
  if (kind == StateKind::suspended || kind == StateKind::yellowCard) return Attention::suspended;
  if (isStartingKind(kind) && now > stuckStartingAt(s, rules)) return Attention::stuckStarting;
  if (s.consecutiveFailures >= rules.unreachableAfterFailures) return Attention::unreachable;
  if (now > staleAt(s, rules)) return Attention::stale;
  return Attention::none;
}

std::optional<SteadyTime> attentionChangesAt(const InstanceStatus& s, SteadyTime now,
                                             const AttentionRules& rules) {
  std::optional<SteadyTime> at;
  const auto consider = [&](SteadyTime t) {
    if (t > now && (!at || t < *at)) at = t;
  };
  if (s.firstAuthFailureAt) consider(authGraceEndsAt(s, rules));
  if (isStartingKind(s.state.kind())) consider(stuckStartingAt(s, rules) + Duration(1));
  consider(staleAt(s, rules) + Duration(1));
  return at;
}

bool needsScan(const InstanceStatus& status, SteadyTime now, const AttentionRules& rules) {
  return deriveAttention(status, now, rules) == Attention::needsScan;
}

}  // namespace greenfleet::fleet
