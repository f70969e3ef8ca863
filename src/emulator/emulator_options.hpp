#pragma once
// EmulatorOptions: every timing and limit of the emulator, with Green API's documented values as
// defaults. Tests shrink the delays. Plain value.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace greenfleet::emulator {

using Millis = std::chrono::milliseconds;

struct Delays {
  Millis initializing{30000};  // "new": getStateInstance answers null (or 401) this long
  Millis starting{30000};      // starting → notAuthorized
  Millis logout{2000};         // logout: authorized → notAuthorized
  Millis reboot{10000};        // reboot: starting → previous state
  Millis qrRotation{20000};    // "QR code is updated every 20 seconds"
  Millis qrQuirk{300000};      // continuous qr polling for 5 min → starting (issue #285)
  Millis qrQuirkGap{30000};    // a pause this long ends a "continuous" qr polling run
  Millis wsTimeout{100000};    // "Timeout for scanning a QR code is 100 seconds"
};

// The message of a passkeyRequired answer (qr and scanqrcode).
inline constexpr const char* kPasskeyMessage = "confirm the login with a passkey on your phone";

struct EmulatorOptions {
  std::string host = "127.0.0.1";
  int port = 9090;
  std::uint64_t seed = 1;
  Delays delays;
  // How a new (initializing) instance answers getStateInstance: "null" (200 body null) or "401".
  std::string initializingAnswer = "null";
  // Spelling of the websocket timeout frame type: "timeoutExpired" (RU/HE docs) or "timeout".
  std::string wsTimeoutType = "timeoutExpired";
  Millis hangMax{30000};  // a hang fault holds the request at most this long, then resets
  // Where stateInstanceChanged goes for instances that set no webhook of their own (setSettings).
  std::string webhookUrl;
  std::string webhookToken;
  int threads = 16;         // workers of the HTTP front (slow routes only)
  int queue = 4096;         // requests waiting for a worker
  Millis keepAlive{10000};  // idle keep-alive connection timeout
  // Requests per second per instance, per method (Green API ratelimiter table, section 6).
  std::map<std::string, int> rateLimits{{"getStateInstance", 1},
                                        {"getStatusInstance", 1},
                                        {"qr", 3},
                                        {"logout", 1},
                                        {"reboot", 1},
                                        {"getWaSettings", 1},
                                        {"getSettings", 1},
                                        {"scanqrcode", 1},
                                        {"getAuthorizationCode", 1},
                                        {"setSettings", 1}};
  Millis rateWindow{1000};
};

}  // namespace greenfleet::emulator
