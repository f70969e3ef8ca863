#include "scheduler/host_circuit_breaker.hpp"

#include <algorithm>

namespace greenfleet::scheduler {

namespace {

constexpr std::size_t kBuckets = 10;

Duration bucketWidth(Duration window) {
  return std::max(Duration(1), window / static_cast<Duration::rep>(kBuckets));
}

}  // namespace

HostCircuitBreaker::HostCircuitBreaker(const CircuitBreakerConfig& config)
    : config_(config),
      failures_(bucketWidth(config.window), kBuckets),
      finished_(bucketWidth(config.window), kBuckets) {}

bool HostCircuitBreaker::record(SteadyTime now, bool outage) {
  finished_.add(now);
  if (outage) failures_.add(now);
  if (isOpen(now) || !outage) return false;
  const auto failed = failures_.sum(now);
  const auto total = finished_.sum(now);
  if (failed < config_.minFailures) return false;
  if (static_cast<double>(failed) < config_.failureRatio * static_cast<double>(total)) return false;
  pausedUntil_ = now + config_.pause;
  ++trips_;
  // Start counting afresh after the pause: results of requests already in flight during it must
  // not re-open the breaker the moment it closes.
  failures_.clear();
  finished_.clear();
  return true;
}

}  // namespace greenfleet::scheduler
