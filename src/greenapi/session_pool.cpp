#include "greenapi/session_pool.hpp"

#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <fmt/format.h>

namespace greenfleet::greenapi {

std::string Endpoint::key() const { return fmt::format("{}://{}:{}", scheme, host, port); }

SessionPool::SessionPool(const fleet::Clock& clock, std::size_t max_idle_per_host,
                         std::chrono::milliseconds idle_timeout)
    : clock_(clock), max_idle_per_host_(max_idle_per_host), idle_timeout_(idle_timeout) {}

SessionPool::Lease SessionPool::acquire(const Endpoint& endpoint) {
  std::unique_ptr<Poco::Net::HTTPClientSession> stale;
  {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(endpoint.key());
    const auto now = clock_.steadyNow();
    while (it != idle_.end() && !it->second.empty()) {
      Idle idle = std::move(it->second.back());
      it->second.pop_back();
      if (now - idle.since <= idle_timeout_) return Lease{std::move(idle.session), true};
      stale = std::move(idle.session);  // dropped outside the lock below
      stale.reset();
    }
  }
  return Lease{create(endpoint), false};
}

void SessionPool::release(const Endpoint& endpoint,
                          std::unique_ptr<Poco::Net::HTTPClientSession> session) {
  if (!session) return;
  std::lock_guard lock(mutex_);
  auto& list = idle_[endpoint.key()];
  if (list.size() >= max_idle_per_host_) return;  // session closes as it goes out of scope
  list.push_back(Idle{std::move(session), clock_.steadyNow()});
}

std::size_t SessionPool::idleCount() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

std::unique_ptr<Poco::Net::HTTPClientSession> SessionPool::create(const Endpoint& endpoint) {
  if (endpoint.scheme == "https") {
    Poco::Net::Context::Ptr context;
    {
      std::lock_guard lock(mutex_);
      if (!tls_context_) {
        Poco::Net::initializeSSL();
        // System CA store (loadDefaultCAs), peer verification on.
        tls_context_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "",
                                              Poco::Net::Context::VERIFY_RELAXED, 9, true);
      }
      context = tls_context_;
    }
    return std::make_unique<Poco::Net::HTTPSClientSession>(endpoint.host, endpoint.port, context);
  }
  return std::make_unique<Poco::Net::HTTPClientSession>(endpoint.host, endpoint.port);
}

}  // namespace greenfleet::greenapi
