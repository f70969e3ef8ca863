#include "greenapi/typed_reply.hpp"

#include "base/log.hpp"
#include "greenapi/wire_format.hpp"

namespace greenfleet::greenapi {

namespace {

const base::Log kLog{"greenapi"};

template <typename T>
CallResult<T> typed(RawReply&& raw, const InstanceCredentials& creds, std::string_view method,
                    std::string (*parse)(std::string_view, T&)) {
  CallResult<T> result;
  result.outcome = std::move(raw.outcome);
  if (result.outcome.ok()) {
    T value;
    const std::string problem = parse(raw.body, value);
    if (problem.empty()) {
      result.value = std::move(value);
    } else {
      result.outcome.kind = OutcomeKind::malformedBody;
      result.outcome.message = scrubSecrets(problem, creds.apiTokenInstance);
    }
  }
  if (!result.ok()) {
    kLog.debug("call method={} id={} token={} outcome={} status={} message={}", method,
               creds.idInstance, base::tokenHint(creds.apiTokenInstance),
               fleet::outcomeKindName(result.outcome.kind), result.outcome.httpStatus,
               result.outcome.message);
  }
  return result;
}

}  // namespace

CallResult<StateResult> stateReply(RawReply&& raw, const InstanceCredentials& creds) {
  return typed<StateResult>(std::move(raw), creds, "getStateInstance", parseState);
}
CallResult<QrResult> qrReply(RawReply&& raw, const InstanceCredentials& creds) {
  return typed<QrResult>(std::move(raw), creds, "qr", parseQr);
}
CallResult<LogoutResult> logoutReply(RawReply&& raw, const InstanceCredentials& creds) {
  return typed<LogoutResult>(std::move(raw), creds, "logout", parseLogout);
}
CallResult<RebootResult> rebootReply(RawReply&& raw, const InstanceCredentials& creds) {
  return typed<RebootResult>(std::move(raw), creds, "reboot", parseReboot);
}
CallResult<WaSettings> waSettingsReply(RawReply&& raw, const InstanceCredentials& creds) {
  return typed<WaSettings>(std::move(raw), creds, "getWaSettings", parseWaSettings);
}

}  // namespace greenfleet::greenapi
