#pragma once
// Job and Outcome: what the scheduler core hands a worker (one upstream request for one
// instance) and what the worker hands back. Plain values. `ticket` matches a result to its job;
// `dueAt` is when the job became runnable as far as its instance's own limits go, so
// `startedAt - dueAt` is the scheduler's lateness (global rps, host caps, worker shortage).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"
#include "fleet/instance_id.hpp"
#include "fleet/outcome_kind.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

enum class Method : std::uint8_t { getStateInstance, qr, logout, reboot, getWaSettings };
inline constexpr std::size_t kMethodCount = 5;
std::string_view methodName(Method method);  // Green API's spelling
std::optional<Method> parseMethod(std::string_view name);

enum class JobReason : std::uint8_t { scheduled, confirm, session, action, sweep };
std::string_view jobReasonName(JobReason reason);

struct Job {
  fleet::InstanceId id = 0;
  Method method = Method::getStateInstance;
  JobReason reason = JobReason::scheduled;
  SteadyTime dueAt{};
  SteadyTime startedAt{};  // the `now` of the takeDue that issued it
  std::uint64_t ticket = 0;
};

// How a job ended, as the worker saw it (mapped from greenapi::CallOutcome by kind name).
struct Outcome {
  fleet::OutcomeKind kind = fleet::OutcomeKind::ok;
  // getStateInstance/getWaSettings: `stateInstance` verbatim; nullopt on ok = `null` body
  // (instance being created). On badRequest: set only when the client recognised the 400 text as
  // a state ("instance in starting process try later" → "starting"; issue #571).
  std::optional<std::string> state;
  std::string qrType;                // qr: `type` verbatim
  std::string qrMessage;             // qr: base64 PNG or text
  std::optional<std::string> phone;  // getWaSettings, when non-empty
  std::string error;                 // short text; never a token
  Duration took{};

  static Outcome ok() { return {}; }
  static Outcome stateReading(std::optional<std::string> stateInstance);
  static Outcome qrAnswer(std::string type, std::string message);
  static Outcome failure(fleet::OutcomeKind kind, std::string error = {});
};

}  // namespace greenfleet::scheduler
