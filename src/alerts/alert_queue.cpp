#include "alerts/alert_queue.hpp"

#include <algorithm>

namespace greenfleet::alerts {

AlertQueue::AlertQueue(std::size_t targets, AlertQueueOptions options)
    : options_(options), targets_(targets) {}

bool AlertQueue::push(const AlertNotice& notice) {
  const auto key = std::make_pair(notice.id, notice.reason);
  if (notice.entered) {
    if (!open_.insert(key).second) return false;
  } else {
    // A leave is sent even without its enter (one from before a restart).
    open_.erase(key);
  }
  for (auto& target : targets_) {
    if (target.notices.size() >= std::max<std::size_t>(1, options_.max_per_target)) {
      // The head may be out on the wire: drop the oldest one that is not.
      const auto victim = target.notices.begin() + (target.out ? 1 : 0);
      if (victim != target.notices.end()) {
        target.notices.erase(victim);
        if (!target.out) target.failures = 0;  // the head changed: a fresh notice starts over
        ++dropped_;
      }
    }
    target.notices.push_back(notice);
  }
  return true;
}

std::optional<AlertDelivery> AlertQueue::next(SteadyTime now) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    auto& target = targets_[i];
    if (target.out || target.notices.empty() || target.retry_at > now) continue;
    target.out = true;
    return AlertDelivery{i, target.notices.front(), target.failures + 1};
  }
  return std::nullopt;
}

void AlertQueue::succeeded(std::size_t target_index) {
  auto& target = targets_.at(target_index);
  target.out = false;
  target.failures = 0;
  target.retry_at = {};
  if (!target.notices.empty()) target.notices.pop_front();
}

std::chrono::milliseconds AlertQueue::failed(std::size_t target_index, SteadyTime now) {
  auto& target = targets_.at(target_index);
  target.out = false;
  ++target.failures;
  auto delay = options_.retry_min;
  for (int i = 1; i < target.failures && delay < options_.retry_max; ++i) delay *= 2;
  delay = std::min(delay, options_.retry_max);
  target.retry_at = now + delay;
  return delay;
}

std::optional<SteadyTime> AlertQueue::nextDueAt() const {
  std::optional<SteadyTime> due;
  for (const auto& target : targets_) {
    if (target.out || target.notices.empty()) continue;
    if (!due || target.retry_at < *due) due = target.retry_at;
  }
  return due;
}

std::size_t AlertQueue::pending() const {
  std::size_t n = 0;
  for (const auto& target : targets_) n += target.notices.size();
  return n;
}

}  // namespace greenfleet::alerts
