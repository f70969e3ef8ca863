#include "scheduler/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace greenfleet::scheduler {

Backoff::Backoff(Duration base, Duration cap) : base_(base), cap_(std::max(cap, base)) {}

Duration Backoff::nextCeiling() const {
  // base·2^failures, computed without overflow: stop doubling once past the cap.
  Duration ceiling = base_;
  for (std::uint32_t i = 0; i < failures_ && ceiling < cap_; ++i) ceiling *= 2;
  return std::min(ceiling, cap_);
}

Duration Backoff::onFailure(SteadyTime now, base::Rng& rng) {
  const Duration ceiling = nextCeiling();
  ++failures_;
  const auto delay = Duration(static_cast<Duration::rep>(
      std::floor(static_cast<double>(ceiling.count()) * base::uniformUnit(rng))));
  readyAt_ = now + delay;
  return delay;
}

Backoff Backoff::withState(std::uint32_t failures, SteadyTime readyAt) const {
  Backoff copy = *this;
  copy.failures_ = failures;
  copy.readyAt_ = readyAt;
  return copy;
}

void Backoff::reset() {
  failures_ = 0;
  readyAt_ = SteadyTime{};
}

}  // namespace greenfleet::scheduler
