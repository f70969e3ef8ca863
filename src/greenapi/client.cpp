#include "greenapi/client.hpp"

#include <future>

#include "greenapi/typed_reply.hpp"

namespace greenfleet::greenapi {

Client::Client(ClientOptions options) : engine_(std::move(options)) {}

RawReply Client::get(const InstanceCredentials& creds, std::string_view method) {
  std::promise<RawReply> promise;
  auto reply = promise.get_future();
  engine_.submit(TransferEngine::Request{
      creds, std::string(method), [&promise](RawReply&& r) { promise.set_value(std::move(r)); }});
  return reply.get();
}

CallResult<StateResult> Client::getStateInstance(const InstanceCredentials& creds) {
  return stateReply(get(creds, "getStateInstance"), creds);
}
CallResult<QrResult> Client::qr(const InstanceCredentials& creds) {
  return qrReply(get(creds, "qr"), creds);
}
CallResult<LogoutResult> Client::logout(const InstanceCredentials& creds) {
  return logoutReply(get(creds, "logout"), creds);
}
CallResult<RebootResult> Client::reboot(const InstanceCredentials& creds) {
  return rebootReply(get(creds, "reboot"), creds);
}
CallResult<WaSettings> Client::getWaSettings(const InstanceCredentials& creds) {
  return waSettingsReply(get(creds, "getWaSettings"), creds);
}

}  // namespace greenfleet::greenapi
