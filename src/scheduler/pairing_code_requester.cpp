#include "scheduler/pairing_code_requester.hpp"

#include <future>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace greenfleet::scheduler {

PairingCodeRequester::PairingCodeRequester(greenapi::TransferEngine& engine,
                                           const fleet::Clock& clock, fleet::Duration min_interval)
    : engine_(engine), clock_(clock), min_interval_(min_interval) {}

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
  {
    std::lock_guard lock(mutex_);
    if (in_flight_.count(id) != 0) {
      answer.status = PairingCodeAnswer::Status::busy;
      return answer;
    }
    const auto now = clock_.steadyNow();
    const auto last = last_start_.find(id);
    if (last != last_start_.end() && now < last->second + min_interval_) {
      answer.status = PairingCodeAnswer::Status::rateLimited;
      answer.retryAfter = last->second + min_interval_ - now;
      return answer;
    }
    in_flight_.insert(id);
    last_start_[id] = now;
  }
  std::promise<greenapi::RawReply> reply;
  auto future = reply.get_future();
  engine_.submit(greenapi::TransferEngine::Request{
      credentials, "getAuthorizationCode",
      [&reply](greenapi::RawReply&& raw) { reply.set_value(std::move(raw)); },
      "{\"phoneNumber\":" + std::to_string(phone_number) + "}"});
  greenapi::RawReply raw = future.get();  // the engine completes every request exactly once
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
  }
  answer.upstream = raw.outcome;
  if (raw.outcome.kind == greenapi::OutcomeKind::rateLimited) {
    answer.status = PairingCodeAnswer::Status::rateLimited;
    answer.retryAfter = min_interval_;
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
