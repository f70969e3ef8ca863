#include "scheduler/pairing_code_requester.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "scheduler/awaited_reply.hpp"

namespace greenfleet::scheduler {

PairingCodeRequester::PairingCodeRequester(greenapi::TransferEngine& engine,
                                           const base::Clock& clock, base::Duration min_interval)
    : engine_(engine), spacing_(clock, min_interval) {}

std::optional<std::string> PairingCodeRequester::parseAnswer(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    const auto parsed = parser.parse(body);
    const auto o = parsed.extract<Poco::JSON::Object::Ptr>();
    if (!o || !o->has("status") || !o->get("status").isBoolean()) return std::nullopt;
    if (!o->getValue<bool>("status")) return std::string();
    if (!o->has("code") || !o->get("code").isString()) return std::nullopt;
    const auto code = o->getValue<std::string>("code");
    if (code.empty() || code.size() > 32) return std::nullopt;
    return code;
  } catch (const Poco::Exception&) {
    return std::nullopt;
  }
}

PairingCodeAnswer PairingCodeRequester::request(const greenapi::InstanceCredentials& credentials,
                                                std::int64_t phone_number) {
  PairingCodeAnswer answer;
  const auto id = credentials.idInstance;
  if (const auto refused = spacing_.claim(id)) {
    answer.status =
        refused->busy ? PairingCodeAnswer::Status::busy : PairingCodeAnswer::Status::rateLimited;
    answer.retryAfter = refused->retryAfter;
    return answer;
  }
  greenapi::RawReply raw = awaitReply(engine_, credentials, "getAuthorizationCode",
                                      "{\"phoneNumber\":" + std::to_string(phone_number) + "}");
  spacing_.release(id);
  answer.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    answer.status = PairingCodeAnswer::Status::rateLimited;
    answer.retryAfter = spacing_.minInterval();
    return answer;
  }
  if (!raw.outcome.ok()) return answer;  // failed
  const auto code = parseAnswer(raw.body);
  if (!code) {
    answer.upstream.kind = greenapi::OutcomeKind::malformedBody;
    answer.upstream.message = "getAuthorizationCode answer is not {status, code}";
    return answer;
  }
  answer.status =
      code->empty() ? PairingCodeAnswer::Status::refused : PairingCodeAnswer::Status::ok;
  answer.code = *code;
  return answer;
}

}  // namespace greenfleet::scheduler
