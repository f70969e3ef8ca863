#pragma once
// QrStreamPlan: what a scan session does with its `scanqrcode` websocket (green-api.md §3),
// decided without any I/O: the socket layer (FleetPoller's stream threads) reports each attempt,
// frame, close and failure with `now`, and follows the step it gets back. Green API pushes a
// frame per QR rotation and closes the socket on any other type; the timeout frame (`timeout` or
// `timeoutExpired`, after 100 s) just means "connect again". Connections are spaced by
// `connectSpacing` (scanQrCode: 1 per second per instance). The session falls back to polling
// `qr` for good when the upgrade is refused (any HTTP answer but 101) or `maxFailures` attempts
// in a row brought no QR. Plain value; not thread-safe.

#include <chrono>
#include <cstdint>
#include <string_view>

#include "base/clock.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

struct QrStreamConfig {
  Duration connectSpacing = std::chrono::milliseconds(1100);  // 1/s upstream, with a margin
  std::uint32_t maxFailures = 3;
  // No frame for this long on an open connection is a failure (Green API sends one per QR
  // rotation, every 20 s, and a timeout frame after 100 s).
  Duration silence = std::chrono::seconds(60);
};

enum class StreamStep {
  keepReading,       // stay on this connection
  reconnect,         // close it; connect again at nextConnectAt()
  endAuthorized,     // accountData: the phone scanned
  endAlreadyLogged,  // the account is authorized already
  fallBack,          // close it; poll qr for the rest of the session
};
std::string_view streamStepName(StreamStep step);

class QrStreamPlan {
 public:
  explicit QrStreamPlan(QrStreamConfig config) : config_(config) {}

  // The earliest a new connection may be opened.
  SteadyTime nextConnectAt() const { return nextConnectAt_; }
  bool fellBack() const { return fellBack_; }
  std::uint32_t connections() const { return connections_; }

  // A connection attempt starts now.
  void connecting(SteadyTime now);
  // The server answered the upgrade with an HTTP status instead of 101.
  StreamStep refused(SteadyTime now);
  // The attempt or an open connection failed (connect error, reset, silence past the timeout).
  StreamStep failed(SteadyTime now);
  // The server closed the connection without a frame that says why.
  StreamStep closed(SteadyTime now);
  // A text frame of this `type` arrived.
  StreamStep frame(std::string_view type, SteadyTime now);

 private:
  StreamStep failure();

  QrStreamConfig config_;
  SteadyTime nextConnectAt_{};
  std::uint32_t failures_ = 0;     // attempts in a row without a QR
  std::uint32_t connections_ = 0;  // attempts so far
  bool gotQr_ = false;             // on the current connection
  bool fellBack_ = false;
};

}  // namespace greenfleet::scheduler
