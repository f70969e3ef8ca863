#include "app/status_mapping.hpp"

#include "base/time_format.hpp"
#include "fleet/attention.hpp"
#include "fleet/outcome_kind.hpp"

namespace greenfleet::app {

namespace {
std::optional<std::int64_t> wallMs(const std::optional<base::SteadyTime>& t,
                                   const base::TimeAnchor& anchor) {
  if (!t) return std::nullopt;
  return base::toUnixMillis(anchor.toWall(*t));
}

std::optional<base::SteadyTime> steady(const std::optional<std::int64_t>& ms,
                                       const base::TimeAnchor& anchor) {
  if (!ms) return std::nullopt;
  return anchor.toSteady(base::fromUnixMillis(*ms));
}

fleet::InstanceState loadState(const std::optional<std::string>& stored) {
  if (!stored) return {};
  return fleet::InstanceState::fromRaw(*stored);
}
}  // namespace

std::optional<std::string> storedState(const fleet::InstanceState& state) {
  if (state.kind() == fleet::StateKind::unknown) return std::nullopt;
  return state.raw();
}

store::StatusUpdate toStoredUpdate(const scheduler::ProbeUpdate& update,
                                   const base::TimeAnchor& anchor) {
  const auto& st = update.status;
  store::StatusUpdate out;
  out.id = update.id;
  out.seq = update.seq;
  out.seq_floor = update.seqFloor;
  out.state = storedState(st.state);
  if (out.state) out.state_since_ms = base::toUnixMillis(anchor.toWall(st.stateSince));
  out.attention = std::string(fleet::attentionName(st.attention));
  out.needs_scan = st.attention == fleet::Attention::needsScan;
  out.last_checked_at_ms = wallMs(st.lastCheckedAt, anchor);
  out.last_ok_at_ms = wallMs(st.lastOkAt, anchor);
  out.consecutive_failures = st.consecutiveFailures;
  if (st.lastErrorKind) {
    out.last_error_code = std::string(fleet::outcomeKindName(*st.lastErrorKind));
    out.last_error = st.lastError;
  }
  out.phone = st.phone;
  out.next_check_at_ms = base::toUnixMillis(anchor.toWall(update.nextProbeAt));
  if (update.transition) {
    const auto& t = *update.transition;
    out.transition =
        store::EventRow{base::toUnixMillis(anchor.toWall(t.at)), storedState(t.from),
                        storedState(t.to), std::string(fleet::readingSourceName(t.source))};
  }
  return out;
}

std::vector<store::EventRow> notableEvents(const scheduler::ProbeUpdate& update,
                                           const base::TimeAnchor& anchor) {
  std::vector<store::EventRow> out;
  const auto at = base::toUnixMillis(anchor.wall);
  const auto source = update.transition
                          ? std::string(fleet::readingSourceName(update.transition->source))
                          : std::string("poll");
  const auto event = [&](std::string type, std::string detail) {
    store::EventRow e;
    e.at_ms = at;
    e.source = source;
    e.type = std::move(type);
    e.detail = std::move(detail);
    out.push_back(std::move(e));
  };
  if (update.attentionChanged) {
    event("attention_changed", std::string(fleet::attentionName(update.status.attention)));
  }
  if (update.sessionStarted) event("scan_session_started", "automatic");
  if (update.sessionEnded) {
    event("scan_session_ended", std::string(scheduler::sessionEndName(*update.sessionEnded)));
  }
  return out;
}

fleet::InstanceStatus fromStoredStatus(const store::StoredStatus& stored,
                                       base::SteadyTime registered_at,
                                       const base::TimeAnchor& anchor) {
  auto st = fleet::InstanceStatus::registered(registered_at);
  st.state = loadState(stored.state);
  st.lastObservedState = st.state;
  if (const auto since = steady(stored.state_since_ms, anchor)) st.stateSince = *since;
  st.attention = fleet::parseAttention(stored.attention).value_or(fleet::Attention::none);
  st.lastCheckedAt = steady(stored.last_checked_at_ms, anchor);
  st.lastOkAt = steady(stored.last_ok_at_ms, anchor);
  // The table has no separate column for the last state reading; the last OK is one.
  st.lastReadingAt = st.lastOkAt;
  st.consecutiveFailures = stored.consecutive_failures;
  if (stored.last_error_code) {
    st.lastErrorKind = fleet::parseOutcomeKind(*stored.last_error_code);
    st.lastError = stored.last_error.value_or("");
  }
  st.phone = stored.phone;
  return st;
}

}  // namespace greenfleet::app
