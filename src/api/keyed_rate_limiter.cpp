#include "api/keyed_rate_limiter.hpp"

namespace greenfleet::api {

KeyedRateLimiter::KeyedRateLimiter(double rate_per_second, std::uint32_t burst,
                                   std::size_t max_keys)
    : template_(rate_per_second, burst), max_keys_(max_keys) {}

std::optional<base::Duration> KeyedRateLimiter::take(const std::string& key, base::SteadyTime now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) pruneLocked(now);
    it = buckets_.emplace(key, template_.theoreticalArrival()).first;
  }
  scheduler::TokenBucket bucket = template_.withState(it->second);
  if (!bucket.consume(now)) return bucket.readyAt() - now;
  it->second = bucket.theoreticalArrival();
  return std::nullopt;
}

void KeyedRateLimiter::pruneLocked(base::SteadyTime now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (template_.withState(it->second).available(now) >= template_.burst()) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() >= max_keys_) buckets_.clear();
}

}  // namespace greenfleet::api
