#pragma once
// Client: typed calls to the Green API instance methods greenfleet needs. Each call returns a
// CallResult; no exception crosses this boundary and no token appears in any message or log.
// Connections are reused through a per-host SessionPool. Thread-safe: one Client is shared by all
// scheduler workers.

#include <chrono>
#include <cstdint>
#include <string>

#include "fleet/clock.hpp"
#include "greenapi/call_outcome.hpp"
#include "greenapi/session_pool.hpp"

namespace greenfleet::greenapi {

struct ClientOptions {
  std::chrono::milliseconds connectTimeout{5000};
  // Per socket read/write; Green API's qr could take up to 60 s before release 5.44.32 (#559).
  std::chrono::milliseconds requestTimeout{30000};
  std::size_t maxBodyBytes = 1024 * 1024;  // larger bodies are malformedBody
  std::size_t maxIdlePerHost = 8;
  std::chrono::milliseconds idleTimeout{4000};  // below common server keep-alive timeouts
  std::string userAgent = "greenfleet";
};

struct InstanceCredentials {
  std::string apiUrl;  // e.g. https://api.green-api.com or http://127.0.0.1:9090
  std::int64_t idInstance = 0;
  std::string apiTokenInstance;
};

// A raw exchange: outcome plus the body (bounded by maxBodyBytes).
struct RawReply {
  CallOutcome outcome;
  std::string body;
};

class Client {
 public:
  explicit Client(ClientOptions options = {}, const fleet::Clock* clock = nullptr);

  CallResult<StateResult> getStateInstance(const InstanceCredentials& creds);
  CallResult<QrResult> qr(const InstanceCredentials& creds);
  CallResult<LogoutResult> logout(const InstanceCredentials& creds);
  CallResult<RebootResult> reboot(const InstanceCredentials& creds);
  CallResult<WaSettings> getWaSettings(const InstanceCredentials& creds);

  // GET {apiUrl}/waInstance{id}/{method}/{token}; the outcome's kind reflects the HTTP status
  // (ok for 2xx) or the transport failure.
  RawReply get(const InstanceCredentials& creds, std::string_view method);

  const ClientOptions& options() const { return options_; }
  std::size_t idleSessions() const { return pool_.idleCount(); }

 private:
  template <typename T, typename Parse>
  CallResult<T> typed(const InstanceCredentials& creds, std::string_view method, Parse parse);

  ClientOptions options_;
  const fleet::Clock& clock_;
  SessionPool pool_;
};

}  // namespace greenfleet::greenapi
