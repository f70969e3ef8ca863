#include "scheduler/instance_spacing.hpp"

namespace greenfleet::scheduler {

namespace {
constexpr std::size_t kForgetAbove = 4096;
}  // namespace

InstanceSpacing::InstanceSpacing(const base::Clock& clock, base::Duration min_interval)
    : clock_(clock), min_interval_(min_interval) {}

std::optional<InstanceSpacing::Refusal> InstanceSpacing::claim(std::int64_t id) {
  std::lock_guard lock(mutex_);
  if (in_flight_.count(id) != 0) return Refusal{true, min_interval_};
  const auto now = clock_.steadyNow();
  const auto last = last_start_.find(id);
  if (last != last_start_.end() && now < last->second + min_interval_) {
    return Refusal{false, last->second + min_interval_ - now};
  }
  in_flight_.insert(id);
  last_start_[id] = now;
  return std::nullopt;
}

void InstanceSpacing::release(std::int64_t id) {
  std::lock_guard lock(mutex_);
  in_flight_.erase(id);
  if (last_start_.size() > kForgetAbove) {
    const auto now = clock_.steadyNow();
    std::erase_if(last_start_, [&](const auto& e) { return now >= e.second + min_interval_; });
  }
}

}  // namespace greenfleet::scheduler
