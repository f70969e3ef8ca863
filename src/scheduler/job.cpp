#include "scheduler/job.hpp"

#include <array>
#include <utility>

namespace greenfleet::scheduler {

namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames{
    "getStateInstance", "qr", "logout", "reboot", "getWaSettings"};
constexpr std::array<std::string_view, 5> kReasonNames{"scheduled", "confirm", "session", "action",
                                                       "sweep"};

}  // namespace

std::string_view methodName(Method method) {
  return kMethodNames.at(static_cast<std::size_t>(method));
}

std::optional<Method> parseMethod(std::string_view name) {
  for (std::size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return std::nullopt;
}

std::string_view jobReasonName(JobReason reason) {
  return kReasonNames.at(static_cast<std::size_t>(reason));
}

Outcome Outcome::stateReading(std::optional<std::string> stateInstance) {
  Outcome o;
  o.state = std::move(stateInstance);
  return o;
}

Outcome Outcome::qrAnswer(std::string type, std::string message) {
  Outcome o;
  o.qrType = std::move(type);
  o.qrMessage = std::move(message);
  return o;
}

Outcome Outcome::failure(fleet::OutcomeKind kind, std::string error) {
  Outcome o;
  o.kind = kind;
  o.error = std::move(error);
  return o;
}

}  // namespace greenfleet::scheduler
