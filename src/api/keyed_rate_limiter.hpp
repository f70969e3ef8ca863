#pragma once
// KeyedRateLimiter: one token bucket per key (a client address, a scan link), for the public
// routes that need no API key. Memory is bounded: when `max_keys` buckets exist, the buckets that
// are full again (their holders idle) are dropped; if none is, the table is cleared (a flood of
// distinct keys loses its history, never the memory). Thread-safe.

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.hpp"
#include "scheduler/token_bucket.hpp"

namespace greenfleet::api {

class KeyedRateLimiter {
 public:
  KeyedRateLimiter(double rate_per_second, std::uint32_t burst, std::size_t max_keys = 100000);

  // Takes a token of `key`'s bucket: nullopt when allowed, else how long until one is free.
  std::optional<base::Duration> take(const std::string& key, base::SteadyTime now);

 private:
  void pruneLocked(base::SteadyTime now);

  scheduler::TokenBucket template_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::unordered_map<std::string, base::SteadyTime> buckets_;  // key → bucket state (GCRA TAT)
};

}  // namespace greenfleet::api
