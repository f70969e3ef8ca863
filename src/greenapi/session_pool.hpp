#pragma once
// SessionPool: idle keep-alive HTTP(S) sessions per scheme://host:port, so the scheduler's worker
// threads reuse TCP/TLS connections to Green API. acquire() hands a session out exclusively (a
// pooled idle one, or a new one); release() returns it for reuse. At most max_idle_per_host idle
// sessions are kept per host; sessions idle longer than idle_timeout are discarded (the server
// may have closed them). Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>

#include "fleet/clock.hpp"

namespace greenfleet::greenapi {

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;
  std::uint16_t port = 0;
  std::string key() const;
};

class SessionPool {
 public:
  SessionPool(const fleet::Clock& clock, std::size_t max_idle_per_host,
              std::chrono::milliseconds idle_timeout);

  struct Lease {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    bool reused = false;
  };
  Lease acquire(const Endpoint& endpoint);
  void release(const Endpoint& endpoint, std::unique_ptr<Poco::Net::HTTPClientSession> session);
  std::size_t idleCount() const;

 private:
  struct Idle {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    fleet::SteadyTime since;
  };
  std::unique_ptr<Poco::Net::HTTPClientSession> create(const Endpoint& endpoint);

  const fleet::Clock& clock_;
  const std::size_t max_idle_per_host_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<Idle>> idle_;
  Poco::Net::Context::Ptr tls_context_;  // created on first https use, under mutex_
};

}  // namespace greenfleet::greenapi
