#pragma once
// InstanceSpacing: the gate of calls made on an operator's behalf outside the poller
// (getAuthorizationCode, setSettings/getSettings): per instance at most one operation in flight,
// and operations starting at least `min_interval` apart. The map of last starts forgets
// instances whose spacing has passed once it grows large. Thread-safe.

#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.hpp"

namespace greenfleet::scheduler {

class InstanceSpacing {
 public:
  struct Refusal {
    bool busy = false;            // an operation is in flight; else spaced
    base::Duration retryAfter{};  // when the next one may start
  };

  InstanceSpacing(const base::Clock& clock, base::Duration min_interval);

  // Claims the instance for one operation (nullopt), or says why not.
  std::optional<Refusal> claim(std::int64_t id);
  void release(std::int64_t id);
  base::Duration minInterval() const { return min_interval_; }

 private:
  const base::Clock& clock_;
  const base::Duration min_interval_;
  std::mutex mutex_;
  std::unordered_set<std::int64_t> in_flight_;
  std::unordered_map<std::int64_t, base::SteadyTime> last_start_;
};

}  // namespace greenfleet::scheduler
