#include "api/pairing_code_handler.hpp"

#include <fmt/format.h>

#include "api/api_error.hpp"
#include "api/json_fields.hpp"
#include "base/log.hpp"
#include "base/time_format.hpp"
#include "fleet/phone_number.hpp"
#include "scheduler/pairing_code_requester.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};

// "The code for authorization by phone number is valid for approximately 2.5 minutes"
// (green-api.md §5).
constexpr std::chrono::seconds kCodeLifetime{150};

std::int64_t phoneNumberFrom(const std::string& body) {
  if (body.empty())
    throw ApiError::badRequest("missing_field", "phoneNumber is required", "phoneNumber");
  const auto json = parseJsonBody(body);
  if (json.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError::badRequest("invalid_type", "the body must be a JSON object");
  }
  const auto object = json.extract<Poco::JSON::Object::Ptr>();
  for (const auto& [name, value] : *object) {
    if (name != "phoneNumber") {
      throw ApiError::badRequest("unknown_field", fmt::format("unknown field '{}'", name), name);
    }
  }
  if (!object->has("phoneNumber")) {
    throw ApiError::badRequest("missing_field", "phoneNumber is required", "phoneNumber");
  }
  const auto value = object->get("phoneNumber");
  std::string digits;
  if (value.isString()) {
    digits = value.extract<std::string>();
  } else if (value.isInteger() && !value.isBoolean()) {
    digits = value.toString();
  } else {
    throw ApiError::badRequest("invalid_type", "phoneNumber must be an integer", "phoneNumber");
  }
  if (const auto error = fleet::validatePhoneNumber(digits)) {
    throw ApiError::unprocessable(*error, "phoneNumber");
  }
  return std::stoll(digits);
}
}  // namespace

ApiResponse PairingCodeHandler::forInstance(ApiRequest& request) {
  request.allowQuery({});
  return this->request(request.instanceId(), request.body, "api",
                       request.caller ? request.caller->name : "-");
}

ApiResponse PairingCodeHandler::request(std::int64_t id, const std::string& body,
                                        const std::string& via, const std::string& actor) {
  const auto phone = phoneNumberFrom(body);
  const auto row = context_.instances.get(id);
  const auto view = context_.poller.view(id);
  if (!row || !view)
    throw ApiError::notFound(fmt::format("no instance {} (or it is disabled)", id));
  if (view->status.state.kind() == fleet::StateKind::authorized) {
    throw ApiError(ErrorKind::conflict, "already_authorized",
                   fmt::format("instance {} is authorized; log it out first to link a phone", id));
  }
  const greenapi::InstanceCredentials credentials{row->instance.api_url, id, row->instance.token};
  const auto answer = context_.pairing.request(credentials, phone);
  using S = scheduler::PairingCodeAnswer::Status;
  switch (answer.status) {
    case S::ok:
      break;
    case S::busy:
      throw ApiError::tooManyRequests("rate_limited",
                                      "a pairing code for this instance is being requested already",
                                      std::chrono::seconds(1));
    case S::rateLimited:
      throw ApiError::tooManyRequests(
          "rate_limited", "pairing codes for one instance are spaced; try again shortly",
          answer.retryAfter);
    case S::refused:
      throw ApiError(ErrorKind::upstreamFailed, "upstream_refused",
                     "Green API issued no code this time; try again, or scan the QR code");
    case S::failed:
      throw ApiError(
          ErrorKind::upstreamFailed, "upstream_error",
          fmt::format("Green API did not answer with a code ({}): {}",
                      fleet::outcomeKindName(answer.upstream.kind), answer.upstream.message));
  }
  kLog.info("event=pairing_code id={} via=\"{}\" by={}", id, via, actor.empty() ? "-" : actor);
  context_.record_event(id, "pairing_code", via, actor);
  const auto now = context_.clock.wallNow();
  auto o = orderedObject();
  o->set("code", answer.code);
  o->set("lifetimeSeconds", static_cast<Poco::Int64>(kCodeLifetime.count()));
  o->set("expiresAt", base::formatRfc3339(now + kCodeLifetime));
  return ApiResponse::json(200, *o);
}

}  // namespace greenfleet::api
