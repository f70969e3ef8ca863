#pragma once
// The typed reading of a RawReply: each function turns a finished exchange for one Green API
// method into its CallResult (payload parsed when the outcome is ok; a body that does not parse
// turns the outcome into malformedBody). Shared by the blocking Client and the poller, which
// receives replies from the TransferEngine. Failures are logged at debug with the token hint
// only. Pure apart from that log line; thread-safe.

#include <string_view>

#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"

namespace greenfleet::greenapi {

CallResult<StateResult> stateReply(RawReply&& raw, const InstanceCredentials& creds);
CallResult<QrResult> qrReply(RawReply&& raw, const InstanceCredentials& creds);
CallResult<LogoutResult> logoutReply(RawReply&& raw, const InstanceCredentials& creds);
CallResult<RebootResult> rebootReply(RawReply&& raw, const InstanceCredentials& creds);
CallResult<WaSettings> waSettingsReply(RawReply&& raw, const InstanceCredentials& creds);

}  // namespace greenfleet::greenapi
