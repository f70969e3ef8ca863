#pragma once
// PairingCodeHandler: linking a phone by number instead of QR. POST
// /api/v1/instances/{id}/pairing-code (admin) and the scan link page (through ScanLinkHandlers)
// send {"phoneNumber": 441234567890} (digits, or a string of digits; validated by
// fleet::validatePhoneNumber) and get the code to type into WhatsApp (Linked devices → Link with
// phone number) with its lifetime. The call goes through scheduler::PairingCodeRequester (one in
// flight per instance, spaced). Each code issued is an event. Thread-safe.

#include <cstdint>
#include <string>

#include "api/api_context.hpp"
#include "api/router.hpp"

namespace greenfleet::api {

class PairingCodeHandler {
 public:
  explicit PairingCodeHandler(ApiContext& context) : context_(context) {}

  ApiResponse forInstance(ApiRequest& request);
  // The code for instance `id` from a request body; `via` and `actor` are recorded in the event.
  ApiResponse request(std::int64_t id, const std::string& body, const std::string& via,
                      const std::string& actor);

 private:
  ApiContext& context_;
};

}  // namespace greenfleet::api
