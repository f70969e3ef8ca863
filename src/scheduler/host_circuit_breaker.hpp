#pragma once
// HostCircuitBreaker: pauses all requests to one upstream host after many outages in a short
// window (DESIGN §5), so a failing Green API host (or our emulator) is not hammered by a whole
// fleet's retries. Trips when, within `window`, at least `minFailures` requests failed with an
// outage and they were at least `failureRatio` of all finished requests; then stays open for
// `pause`. The ratio keeps a large healthy fleet with a few failing instances from tripping it.
// Value type taking `now`; not thread-safe.

#include <chrono>
#include <cstdint>

#include "base/clock.hpp"
#include "scheduler/sliding_counter.hpp"

namespace greenfleet::scheduler {

struct CircuitBreakerConfig {
  Duration window = std::chrono::seconds(10);
  std::uint32_t minFailures = 20;
  double failureRatio = 0.5;
  Duration pause = std::chrono::seconds(15);
};

class HostCircuitBreaker {
 public:
  explicit HostCircuitBreaker(const CircuitBreakerConfig& config);

  // Records one finished request; true when this record opened the breaker.
  bool record(SteadyTime now, bool outage);
  bool isOpen(SteadyTime now) const { return now < pausedUntil_; }
  SteadyTime pausedUntil() const { return pausedUntil_; }
  std::uint32_t trips() const { return trips_; }

 private:
  CircuitBreakerConfig config_;
  SlidingCounter failures_;
  SlidingCounter finished_;
  SteadyTime pausedUntil_{};
  std::uint32_t trips_ = 0;
};

}  // namespace greenfleet::scheduler
