#include "fleet/observation.hpp"

#include <algorithm>
#include <utility>

namespace greenfleet::fleet {

namespace {

bool isScanRelated(Attention a) {
  return a == Attention::needsScan || a == Attention::passkeyRequired;
}

bool withinAuthGrace(const InstanceStatus& s, SteadyTime at, const AttentionRules& rules) {
  const SteadyTime anchor = std::max(s.registeredAt, s.lastOkAt.value_or(s.registeredAt));
  return at - anchor < rules.authGrace;
}

void recordOutcome(InstanceStatus& s, const Observation& obs) {
  const bool probe = obs.source != ReadingSource::webhook;
  if (!probe) return;  // a webhook says nothing about our path to upstream or our token
  s.lastCheckedAt = obs.at;
  s.lastCheckDuration = obs.took;
  if (obs.outcome == OutcomeKind::ok) {
    s.lastOkAt = obs.at;
    s.consecutiveFailures = 0;
    s.firstAuthFailureAt.reset();
    s.lastErrorKind.reset();
    s.lastError.clear();
    return;
  }
  s.lastErrorKind = obs.outcome;
  s.lastError = obs.error;
  if (isOutage(obs.outcome)) {
    ++s.consecutiveFailures;
    return;
  }
  // Any other HTTP answer proves the path works, so an outage streak is broken.
  s.consecutiveFailures = 0;
  if (isAuthRejection(obs.outcome)) {
    if (!s.firstAuthFailureAt) s.firstAuthFailureAt = obs.at;
  } else if (obs.state) {
    // A recognised 400 ("starting", "not authorized") is a state answer, not an auth problem.
    s.firstAuthFailureAt.reset();
  }
}

}  // namespace

ObservationResult applyObservation(InstanceStatus s, const Observation& obs,
                                   const AttentionRules& rules) {
  ObservationResult result;
  result.previousAttention = s.attention;
  const bool could_be_initializing =
      s.state.kind() == StateKind::unknown || s.state.kind() == StateKind::initializing;
  const bool initializing_401 = isAuthRejection(obs.outcome) && !obs.state &&
                                could_be_initializing && withinAuthGrace(s, obs.at, rules);
  recordOutcome(s, obs);
  if (obs.phone) s.phone = obs.phone;

  InstanceState proposed_state = s.state;
  bool proposed_qr = s.qrOffered;
  bool proposed_passkey = s.passkeyAsked;
  bool has_reading = false;
  if (obs.state) {
    proposed_state = *obs.state;
    has_reading = true;
  } else if (initializing_401) {
    // Green API answers 401 while a new instance is being created (issue #306).
    proposed_state = InstanceState::initializing();
    has_reading = true;
  }
  if (has_reading) {
    s.lastObservedState = proposed_state;
    s.lastObservedAt = obs.at;
    if (proposed_state.kind() != StateKind::notAuthorized) {
      proposed_qr = false;
      proposed_passkey = false;
    }
  }
  if (obs.qr && obs.outcome == OutcomeKind::ok) {
    if (*obs.qr == QrKind::qrCode) proposed_qr = true;
    if (*obs.qr == QrKind::alreadyLogged) proposed_qr = false;
    proposed_passkey = *obs.qr == QrKind::passkeyRequired;
    if (proposed_passkey) proposed_qr = false;
    has_reading = true;
  }
  if (has_reading || (obs.outcome == OutcomeKind::ok && obs.source != ReadingSource::webhook)) {
    s.lastReadingAt = obs.at;
  }

  const bool changes = has_reading && (!(proposed_state == s.state) || proposed_qr != s.qrOffered ||
                                       proposed_passkey != s.passkeyAsked);
  if (has_reading && !changes)
    s.pending.reset();  // agrees with what we have: dismiss a pending alarm
  if (changes) {
    InstanceStatus candidate = s;
    const bool state_changes = !(proposed_state == s.state);
    candidate.state = proposed_state;
    candidate.qrOffered = proposed_qr;
    candidate.passkeyAsked = proposed_passkey;
    if (state_changes) candidate.stateSince = obs.at;
    candidate.pending.reset();
    const Attention now_attention = deriveAttention(s, obs.at, rules);
    const Attention next_attention = deriveAttention(candidate, obs.at, rules);
    // Between needs_scan and passkey_required only the QR answer moved: a direct answer of a scan
    // session, not a doubtful state reading, so it needs no confirming probe (which reads the
    // state, not the QR, and could never confirm it).
    const bool scan_answer_only =
        !state_changes && isScanRelated(now_attention) && isScanRelated(next_attention);
    const bool worse = isWorse(next_attention, now_attention) && !scan_answer_only;
    const bool confirmed = s.pending && s.pending->state == proposed_state &&
                           s.pending->qrOffered == proposed_qr &&
                           s.pending->passkeyAsked == proposed_passkey;
    if (worse && !confirmed) {
      s.pending = PendingReading{proposed_state, proposed_qr, proposed_passkey, obs.at, obs.source};
      result.confirmationNeeded = true;
    } else {
      const SteadyTime first_seen = confirmed ? s.pending->firstSeenAt : obs.at;
      if (state_changes) {
        candidate.stateSince = first_seen;
        result.transition = StateTransition{s.state, proposed_state, first_seen, obs.source};
      }
      s = std::move(candidate);
    }
  }
  s.attention = deriveAttention(s, obs.at, rules);
  result.attentionChanged = s.attention != result.previousAttention;
  result.status = std::move(s);
  return result;
}

}  // namespace greenfleet::fleet
