#include "scheduler/qr_session.hpp"

#include <algorithm>

namespace greenfleet::scheduler {

std::optional<QrTransport> parseQrTransport(std::string_view name) {
  if (name == "websocket") return QrTransport::websocket;
  if (name == "poll") return QrTransport::poll;
  return std::nullopt;
}

std::string_view sessionEndName(SessionEnd end) {
  switch (end) {
    case SessionEnd::idle:
      return "idle";
    case SessionEnd::maxRun:
      return "maxRun";
    case SessionEnd::alreadyLogged:
      return "alreadyLogged";
    case SessionEnd::stateChanged:
      return "stateChanged";
    case SessionEnd::removed:
      return "removed";
  }
  return "idle";
}

QrSession::QrSession(SteadyTime now, SteadyTime runStartedAt, SessionOrigin origin,
                     const QrSessionConfig& config)
    : startedAt_(now),
      runStartedAt_(runStartedAt),
      idleEndsAt_(now + config.idleLength),
      nextPollAt_(now),
      origin_(origin),
      idleLength_(config.idleLength),
      maxRun_(config.maxRun),
      pollInterval_(config.pollInterval) {}

void QrSession::touch(SteadyTime now) { idleEndsAt_ = std::max(idleEndsAt_, now + idleLength_); }

SteadyTime QrSession::endsAt() const { return std::min(idleEndsAt_, runCapAt()); }

SessionEnd QrSession::expiryReason() const {
  return runCapAt() <= idleEndsAt_ ? SessionEnd::maxRun : SessionEnd::idle;
}

void QrSession::polled(SteadyTime started, SteadyTime finished) {
  // "Request the QR with a delay of 1 second" (green-api.md §2): never sooner than 1 s after the
  // previous request started, and never while it is still running.
  nextPollAt_ = std::max(started + pollInterval_, finished);
}

}  // namespace greenfleet::scheduler
