#pragma once
// Client: blocking typed calls to the Green API instance methods, for one-off callers (tools,
// tests). Each call submits one transfer to the Client's own TransferEngine (one I/O thread) and
// waits for its reply, so it classifies, caps and scrubs exactly like the poller's engine. Each
// call returns a CallResult; no exception crosses this boundary and no token appears in any
// message or log. Connections are kept alive and reused. Thread-safe: calls from many threads run
// concurrently on the one engine. The poller never uses this type; it drives a TransferEngine.

#include <string_view>

#include "greenapi/call_outcome.hpp"
#include "greenapi/transfer_engine.hpp"

namespace greenfleet::greenapi {

using ClientOptions = TransferOptions;

class Client {
 public:
  explicit Client(ClientOptions options = {});

  CallResult<StateResult> getStateInstance(const InstanceCredentials& creds);
  CallResult<QrResult> qr(const InstanceCredentials& creds);
  CallResult<LogoutResult> logout(const InstanceCredentials& creds);
  CallResult<RebootResult> reboot(const InstanceCredentials& creds);
  CallResult<WaSettings> getWaSettings(const InstanceCredentials& creds);

  // GET {apiUrl}/waInstance{id}/{method}/{token}; the outcome's kind reflects the HTTP status
  // (ok for 2xx) or the transport failure.
  RawReply get(const InstanceCredentials& creds, std::string_view method);

  const ClientOptions& options() const { return engine_.options(); }
  // Open keep-alive connections (between calls: the idle ones).
  std::size_t idleSessions() const { return engine_.openConnections(); }

 private:
  TransferEngine engine_;
};

}  // namespace greenfleet::greenapi
