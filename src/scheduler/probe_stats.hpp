#pragma once
// ProbeStats: the scheduler's own health numbers for /summary and /metrics — starts per second
// over the last minute, outcomes by kind over the last 5 minutes, and lateness percentiles over
// the last minute from a bounded sample ring. Fixed memory, O(1) recording. Owned by
// ProbeScheduler; not thread-safe.

#include <array>
#include <cstdint>
#include <vector>

#include "base/clock.hpp"
#include "fleet/outcome_kind.hpp"
#include "scheduler/sliding_counter.hpp"

namespace greenfleet::scheduler {

struct SchedulerStats {
  std::size_t instances = 0;
  std::size_t inFlight = 0;
  std::size_t heapEntries = 0;  // timer heap size, including lazily deleted entries
  std::size_t parked = 0;       // waiting for a host's concurrency slot
  std::size_t activeSessions = 0;
  std::size_t hostsPaused = 0;  // circuit breaker open
  std::uint64_t breakerTrips = 0;
  Duration latenessP50{};  // over the last minute
  Duration latenessP99{};
  std::size_t latenessSamples = 0;
  double startsPerSecond = 0.0;                                      // over the last minute
  std::uint64_t rateLimited5m = 0;                                   // 429s
  std::uint64_t outages5m = 0;                                       // isOutage kinds
  std::array<std::uint64_t, fleet::kOutcomeKindCount> outcomes5m{};  // by fleet::OutcomeKind
};

class ProbeStats {
 public:
  ProbeStats();
  void recordStart(SteadyTime now, Duration lateness);
  void recordOutcome(SteadyTime now, fleet::OutcomeKind kind);
  // Fills the rate, outcome and lateness fields of `out`.
  void fill(SchedulerStats& out, SteadyTime now) const;

 private:
  struct Sample {
    SteadyTime at;
    Duration lateness;
  };
  SlidingCounter starts_;
  std::vector<SlidingCounter> outcomes_;
  std::vector<Sample> samples_;
  std::size_t nextSample_ = 0;
};

}  // namespace greenfleet::scheduler
