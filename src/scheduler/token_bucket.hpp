#pragma once
// TokenBucket: a rate limiter as a value type whose methods take `now` (after folly's
// TokenBucket). Implemented as GCRA in integer nanoseconds, so there is no floating-point drift:
// with burst b and period p = 1/rate, any interval of length W admits at most b + floor(W/p)
// requests. With burst 1 that is "consecutive requests at least p apart", which is what keeps us
// under Green API's "N per second per instance and method" (green-api.md §6) whatever the
// caller's timing. Not thread-safe; starts full.

#include <cstdint>

#include "base/clock.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

class TokenBucket {
 public:
  TokenBucket(double ratePerSecond, std::uint32_t burst);

  // Takes one token if one is available at `now`.
  bool consume(SteadyTime now);
  bool mayConsume(SteadyTime now) const { return now >= readyAt(); }
  // The earliest time a token is available (possibly in the past).
  SteadyTime readyAt() const;
  // Tokens available at `now`, 0..burst.
  double available(SteadyTime now) const;

  Duration period() const { return period_; }
  std::uint32_t burst() const { return burst_; }

  // The whole mutable state (GCRA's theoretical arrival time). A holder of many buckets of one
  // rate keeps only this per bucket and one bucket as the template for the rest.
  SteadyTime theoreticalArrival() const { return theoreticalArrival_; }
  // This bucket's rate and burst with `state` from theoreticalArrival().
  TokenBucket withState(SteadyTime state) const;

 private:
  Duration period_;
  std::uint32_t burst_;
  SteadyTime theoreticalArrival_{};  // GCRA's TAT: when the bucket would be full again
};

}  // namespace greenfleet::scheduler
