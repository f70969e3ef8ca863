#include "scheduler/token_bucket.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace greenfleet::scheduler {

TokenBucket::TokenBucket(double ratePerSecond, std::uint32_t burst) : burst_(burst) {
  if (!(ratePerSecond > 0.0) || burst == 0) {
    throw std::invalid_argument("TokenBucket needs a positive rate and burst");
  }
  // Round the period up: a bucket may be slower than asked, never faster.
  const double ns = std::ceil(1e9 / ratePerSecond);
  period_ =
      std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(static_cast<std::int64_t>(ns)));
  if (period_ <= Duration::zero()) period_ = Duration(1);
}

TokenBucket TokenBucket::withState(SteadyTime state) const {
  TokenBucket copy = *this;
  copy.theoreticalArrival_ = state;
  return copy;
}

SteadyTime TokenBucket::readyAt() const {
  return theoreticalArrival_ - period_ * static_cast<Duration::rep>(burst_ - 1);
}

bool TokenBucket::consume(SteadyTime now) {
  if (now < readyAt()) return false;
  theoreticalArrival_ = std::max(theoreticalArrival_, now) + period_;
  return true;
}

double TokenBucket::available(SteadyTime now) const {
  const SteadyTime empty_at = theoreticalArrival_ - period_ * static_cast<Duration::rep>(burst_);
  if (now <= empty_at) return 0.0;
  const double tokens =
      static_cast<double>((now - empty_at).count()) / static_cast<double>(period_.count());
  return std::min(tokens, static_cast<double>(burst_));
}

}  // namespace greenfleet::scheduler
