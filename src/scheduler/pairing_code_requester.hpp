#pragma once
// PairingCodeRequester: asks Green API for a phone-number pairing code (getAuthorizationCode,
// POST {"phoneNumber": N} → {"status": true, "code": "ABCD1234"}) through the shared upstream
// engine. Per instance, at most one request is in flight and requests start at least
// `min_interval` apart: the method is missing from Green API's rate table, and a repeated call
// after a wrong code is known to push an instance into `starting` (green-api.md §5), so we stay
// well clear. request() blocks its caller (an API worker) until the answer, bounded by the
// engine's request timeout. Thread-safe.

#include <cstdint>
#include <string>

#include "base/clock.hpp"
#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"
#include "scheduler/instance_spacing.hpp"

namespace greenfleet::scheduler {

struct PairingCodeAnswer {
  enum class Status {
    ok,           // `code` holds the code
    busy,         // a request for this instance is in flight
    rateLimited,  // our spacing (or upstream's 429): retry after `retryAfter`
    refused,      // Green API answered status false: no code this time
    failed,       // the call failed: `upstream` says how
  };
  Status status = Status::failed;
  std::string code;
  base::Duration retryAfter{};
  greenapi::CallOutcome upstream;
};

class PairingCodeRequester {
 public:
  PairingCodeRequester(greenapi::TransferEngine& engine, const base::Clock& clock,
                       base::Duration min_interval);

  PairingCodeAnswer request(const greenapi::InstanceCredentials& credentials,
                            std::int64_t phone_number);

  // The body of a 2xx getAuthorizationCode answer: the code, "" for status false; nullopt when
  // the body is not that shape. Pure; exposed for tests.
  static std::optional<std::string> parseAnswer(const std::string& body);

 private:
  greenapi::TransferEngine& engine_;
  InstanceSpacing spacing_;
};

}  // namespace greenfleet::scheduler
