#pragma once
// SlidingCounter: counts events over the last `buckets × width` of steady time in fixed buckets
// (e.g. 300 × 1 s for "429s in the last 5 minutes"). O(1) add, O(buckets) sum; memory is fixed.
// Value type; not thread-safe.

#include <cstdint>
#include <vector>

#include "base/clock.hpp"

namespace greenfleet::scheduler {

using base::Duration;
using base::SteadyTime;

class SlidingCounter {
 public:
  SlidingCounter(Duration width, std::size_t buckets);

  void add(SteadyTime now, std::uint64_t n = 1);
  // Events in the window ending at `now` (bucket-granular: includes the current bucket).
  std::uint64_t sum(SteadyTime now) const;
  void clear();
  Duration span() const { return width_ * static_cast<Duration::rep>(counts_.size()); }

 private:
  std::int64_t bucketOf(SteadyTime t) const { return t.time_since_epoch() / width_; }

  Duration width_;
  std::vector<std::uint64_t> counts_;
  std::vector<std::int64_t> bucketIds_;
};

}  // namespace greenfleet::scheduler
