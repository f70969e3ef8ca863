#pragma once
// Backoff: exponential backoff with full jitter (delay uniform in [0, min(cap, base·2^(n-1))]),
// per (instance, method). DESIGN §5: base 2 s, cap 5 min; on 429 and on outages; reset on success.
// Full jitter spreads a fleet's retries after a shared outage instead of synchronising them.
// Value type; takes `now` and the caller's Rng. Not thread-safe.

#include <chrono>
#include <cstdint>

#include "base/clock.hpp"
#include "base/random.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

class Backoff {
 public:
  explicit Backoff(Duration base = std::chrono::seconds(2), Duration cap = std::chrono::minutes(5));

  // Records one more failure at `now` and returns the chosen delay; readyAt() = now + delay.
  Duration onFailure(SteadyTime now, base::Rng& rng);
  void reset();

  // The earliest time the next attempt may start; in the past when not backing off.
  SteadyTime readyAt() const { return readyAt_; }
  bool isBackingOff(SteadyTime now) const { return now < readyAt_; }
  std::uint32_t failures() const { return failures_; }
  // Upper bound of the delay the next failure would draw from.
  Duration nextCeiling() const;
  // This backoff's base and cap with the state failures() and readyAt() describe: a holder of
  // many backoffs of one policy keeps only those and one backoff as the template.
  Backoff withState(std::uint32_t failures, SteadyTime readyAt) const;

 private:
  Duration base_;
  Duration cap_;
  std::uint32_t failures_ = 0;
  SteadyTime readyAt_{};
};

}  // namespace greenfleet::scheduler
