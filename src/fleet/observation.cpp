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

// What a reading says the state and QR offer are; `hasReading` false when it says neither.
struct Proposal {
  InstanceState state;
  bool qrOffered = false;
  bool passkeyAsked = false;
  bool hasReading = false;
};

// Reads the proposal off the observation and records it as last observed (shown at once, even
// before a confirmation).
Proposal propose(InstanceStatus& s, const Observation& obs, bool initializing_401) {
  Proposal p{s.state, s.qrOffered, s.passkeyAsked, false};
  if (obs.state) {
    p.state = *obs.state;
    p.hasReading = true;
  } else if (initializing_401) {
    // Green API answers 401 while a new instance is being created (issue #306).
    p.state = InstanceState::initializing();
    p.hasReading = true;
  }
  if (p.hasReading) {
    s.lastObservedState = p.state;
    s.lastObservedAt = obs.at;
    if (p.state.kind() != StateKind::notAuthorized) {
      p.qrOffered = false;
      p.passkeyAsked = false;
    }
  }
  if (obs.qr && obs.outcome == OutcomeKind::ok) {
    if (*obs.qr == QrKind::qrCode) p.qrOffered = true;
    if (*obs.qr == QrKind::alreadyLogged) p.qrOffered = false;
    p.passkeyAsked = *obs.qr == QrKind::passkeyRequired;
    if (p.passkeyAsked) p.qrOffered = false;
    p.hasReading = true;
  }
  if (p.hasReading || (obs.outcome == OutcomeKind::ok && obs.source != ReadingSource::webhook)) {
    s.lastReadingAt = obs.at;
  }
  return p;
}

// Adopts a proposal that changes the state or QR offer, unless it makes the attention worse
// and is not yet confirmed: then it is held as pending.
void adopt(InstanceStatus& s, const Proposal& p, const Observation& obs,
           const AttentionRules& rules, ObservationResult& result) {
  InstanceStatus candidate = s;
  const bool state_changes = !(p.state == s.state);
  candidate.state = p.state;
  candidate.qrOffered = p.qrOffered;
  candidate.passkeyAsked = p.passkeyAsked;
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
  const bool confirmed = s.pending && s.pending->state == p.state &&
                         s.pending->qrOffered == p.qrOffered &&
                         s.pending->passkeyAsked == p.passkeyAsked;
  if (worse && !confirmed) {
    s.pending = PendingReading{p.state, p.qrOffered, p.passkeyAsked, obs.source, obs.at};
    result.confirmationNeeded = true;
    return;
  }
  const SteadyTime first_seen = confirmed ? s.pending->firstSeenAt : obs.at;
  if (state_changes) {
    candidate.stateSince = first_seen;
    result.transition = StateTransition{s.state, p.state, first_seen, obs.source};
  }
  s = std::move(candidate);
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

  const Proposal proposal = propose(s, obs, initializing_401);
  const bool changes =
      proposal.hasReading && (!(proposal.state == s.state) || proposal.qrOffered != s.qrOffered ||
                              proposal.passkeyAsked != s.passkeyAsked);
  if (proposal.hasReading && !changes) s.pending.reset();  // agrees: dismiss a pending alarm
  if (changes) adopt(s, proposal, obs, rules, result);
  s.attention = deriveAttention(s, obs.at, rules);
  result.attentionChanged = s.attention != result.previousAttention;
  result.status = std::move(s);
  return result;
}

}  // namespace greenfleet::fleet
