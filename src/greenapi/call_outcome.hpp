#pragma once
// CallOutcome and the typed payloads of the Green API calls greenfleet makes. Every call of
// greenapi::Client ends in a CallResult<T>: an outcome (always set) and, when the outcome is ok,
// the parsed payload. Plain values; no ownership, no threads.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "fleet/outcome_kind.hpp"

namespace greenfleet::greenapi {

// How a call ended: the domain's classification, so results reach the scheduler without a
// mapping (401 also for an instance still initializing, issue #306; 400 keeps the upstream text).
using OutcomeKind = fleet::OutcomeKind;

struct CallOutcome {
  OutcomeKind kind = OutcomeKind::transportError;
  int httpStatus = 0;                    // 0 when no HTTP response was received
  std::chrono::microseconds latency{0};  // request start to body fully read
  std::string message;                   // short, never contains the token
  bool ok() const { return kind == OutcomeKind::ok; }
};

template <typename T>
struct CallResult {
  CallOutcome outcome;
  std::optional<T> value;  // set exactly when outcome.ok()
  bool ok() const { return outcome.ok() && value.has_value(); }
};

// getStateInstance. Unknown states are kept verbatim. A `null` body (instance still being
// created) becomes initializing = true with state "initializing".
struct StateResult {
  static constexpr std::string_view kInitializing = "initializing";
  std::string state;
  bool initializing = false;
};

// qr: type is kept verbatim (qrCode | alreadyLogged | error | anything newer).
struct QrResult {
  std::string type;
  std::string message;  // base64 PNG for qrCode, text otherwise
  bool isQrCode() const { return type == "qrCode"; }
  bool isAlreadyLogged() const { return type == "alreadyLogged"; }
};

struct LogoutResult {
  bool isLogout = false;
};

struct RebootResult {
  bool isReboot = false;
};

// getWaSettings: the cheapest call that returns both state and phone.
struct WaSettings {
  std::string phone;          // empty unless authorized
  std::string stateInstance;  // verbatim
  std::string deviceId;
  std::string avatar;
};

}  // namespace greenfleet::greenapi
