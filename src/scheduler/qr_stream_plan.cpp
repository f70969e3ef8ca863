#include "scheduler/qr_stream_plan.hpp"

namespace greenfleet::scheduler {

std::string_view streamStepName(StreamStep step) {
  switch (step) {
    case StreamStep::keepReading:
      return "keepReading";
    case StreamStep::reconnect:
      return "reconnect";
    case StreamStep::endAuthorized:
      return "endAuthorized";
    case StreamStep::endAlreadyLogged:
      return "endAlreadyLogged";
    case StreamStep::fallBack:
      return "fallBack";
  }
  return "reconnect";
}

void QrStreamPlan::connecting(SteadyTime now) {
  ++connections_;
  gotQr_ = false;
  // Green API counts attempts: the next one no sooner than a spacing after this one started.
  nextConnectAt_ = now + config_.connectSpacing;
}

StreamStep QrStreamPlan::refused(SteadyTime) {
  fellBack_ = true;
  return StreamStep::fallBack;
}

StreamStep QrStreamPlan::failure() {
  if (gotQr_) {
    failures_ = 0;
    gotQr_ = false;
    return StreamStep::reconnect;
  }
  if (++failures_ >= config_.maxFailures) {
    fellBack_ = true;
    return StreamStep::fallBack;
  }
  return StreamStep::reconnect;
}

StreamStep QrStreamPlan::failed(SteadyTime) { return failure(); }

StreamStep QrStreamPlan::closed(SteadyTime) { return failure(); }

StreamStep QrStreamPlan::frame(std::string_view type, SteadyTime) {
  if (type == "qrCode") {
    gotQr_ = true;
    failures_ = 0;
    return StreamStep::keepReading;
  }
  if (type == "accountData") return StreamStep::endAuthorized;
  if (type == "alreadyLogged") return StreamStep::endAlreadyLogged;
  if (type == "timeout" || type == "timeoutExpired") {
    // The server's own scan timeout: a healthy end of one connection, not a failure.
    failures_ = 0;
    gotQr_ = false;
    return StreamStep::reconnect;
  }
  // `error` (starting, not authorized yet …) closes the socket; anything else (passkeyRequired,
  // a type added later) is shown as it is and the socket read on, as Green API keeps it open or
  // closes it. Neither brought a QR: a run of them ends in polling.
  if (type == "error") return failure();
  return StreamStep::keepReading;
}

}  // namespace greenfleet::scheduler
