#include "scheduler/sliding_counter.hpp"

#include <algorithm>
#include <stdexcept>

namespace greenfleet::scheduler {

SlidingCounter::SlidingCounter(Duration width, std::size_t buckets)
    : width_(width), counts_(buckets, 0), bucketIds_(buckets, -1) {
  if (width <= Duration::zero() || buckets == 0) {
    throw std::invalid_argument("SlidingCounter needs a positive width and bucket count");
  }
}

void SlidingCounter::add(SteadyTime now, std::uint64_t n) {
  const std::int64_t id = bucketOf(now);
  const auto slot = static_cast<std::size_t>(id % static_cast<std::int64_t>(counts_.size()));
  if (bucketIds_[slot] != id) {
    bucketIds_[slot] = id;
    counts_[slot] = 0;
  }
  counts_[slot] += n;
}

std::uint64_t SlidingCounter::sum(SteadyTime now) const {
  const std::int64_t id = bucketOf(now);
  const auto n = static_cast<std::int64_t>(counts_.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    const std::int64_t age = id - bucketIds_[i];
    if (bucketIds_[i] >= 0 && age >= 0 && age < n) total += counts_[i];
  }
  return total;
}

void SlidingCounter::clear() {
  std::fill(counts_.begin(), counts_.end(), 0);
  std::fill(bucketIds_.begin(), bucketIds_.end(), -1);
}

}  // namespace greenfleet::scheduler
