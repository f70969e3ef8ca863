#pragma once
// QrWebsocket: one client connection to Green API's `scanqrcode` websocket
// (wss://{apiUrl host}/waInstance{id}/scanqrcode/{token}; green-api.md §3) over
// Poco::Net::WebSocket. The apiUrl is checked by the same UpstreamHostPolicy as every request:
// its host must be allowed, plain ws:// only to loopback, and the address DNS gives must pass
// checkAddress; the connection goes to that checked address (no second lookup). Errors never
// carry the token (the URL holds it): every message is scrubbed. Blocking, owned by one thread.

#include <chrono>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "greenapi/transfer_engine.hpp"
#include "greenapi/upstream_host_policy.hpp"

namespace Poco::Net {
class HTTPClientSession;
class WebSocket;
}  // namespace Poco::Net

namespace greenfleet::greenapi {

// One text frame: {"type": ..., "message": ...}; accountData carries its fields at top level.
struct QrFrame {
  std::string type;
  std::string message;
};

class QrWebsocket {
 public:
  struct Failure {
    int httpStatus = 0;   // > 0: the server answered the upgrade with this status (refused)
    std::string message;  // scrubbed
  };
  enum class Read { frame, idle, closed, failed };

  ~QrWebsocket();
  QrWebsocket(const QrWebsocket&) = delete;
  QrWebsocket& operator=(const QrWebsocket&) = delete;

  static base::Result<std::unique_ptr<QrWebsocket>, Failure> open(
      const InstanceCredentials& creds, const UpstreamHostPolicy& policy,
      std::chrono::milliseconds connect_timeout);

  // Waits up to `wait` for a frame: frame (`out` filled), idle (nothing yet), closed (the server
  // closed), failed (`error` says why: reset, a frame that is not a JSON object …).
  Read read(std::chrono::milliseconds wait, QrFrame& out, std::string& error);
  // Sends a close frame (best effort) and closes the socket.
  void close();

 private:
  QrWebsocket(std::unique_ptr<Poco::Net::HTTPClientSession> session,
              std::unique_ptr<Poco::Net::WebSocket> socket, std::string token);

  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::unique_ptr<Poco::Net::WebSocket> socket_;
  std::string token_;  // to scrub messages only
  std::string buffer_;
};

// Parses one frame's text; false when it is not a JSON object with a string `type`.
bool parseQrFrame(const std::string& text, QrFrame& out);

}  // namespace greenfleet::greenapi
