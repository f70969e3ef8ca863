#pragma once
// CallOutcome and the typed payloads of the Green API calls greenfleet makes. Every call of
// greenapi::Client ends in a CallResult<T>: an outcome (always set) and, when the outcome is ok,
// the parsed payload. Plain values; no ownership, no threads.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace greenfleet::greenapi {

enum class OutcomeKind {
  ok,
  rateLimited,     // 429
  unauthorized,    // 401: wrong token, or an instance still initializing (issue #306)
  forbidden,       // 403: unknown idInstance
  notFound,        // 404: wrong HTTP verb or path
  quotaExceeded,   // 466: Developer-plan quota
  badRequest,      // 400: message keeps the upstream text ("instance in starting process try later")
  serverError,     // 5xx
  timeout,         // connect or read timed out
  transportError,  // refused, reset, TLS failure, closed early
  malformedBody,   // 2xx with a body we cannot read (garbage, too large, wrong shape)
  unexpectedStatus, // any other HTTP status
  addressRefused   // upstream.allowed_hosts refused the host, or the address DNS gave for it
};

std::string_view outcomeName(OutcomeKind kind);

struct CallOutcome {
  OutcomeKind kind = OutcomeKind::transportError;
  int httpStatus = 0;                        // 0 when no HTTP response was received
  std::chrono::microseconds latency{0};      // request start to body fully read
  std::string message;                       // short, never contains the token
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
