#include "emulator/rate_window.hpp"

namespace greenfleet::emulator {

void RateWindow::grow() {
  // Unlimited windows (and the first request) need room; keep the times oldest first.
  std::vector<fleet::SteadyTime> bigger(ring_.empty() ? (limit_ > 0 ? limit_ : 4)
                                                      : 2 * ring_.size());
  for (std::uint32_t i = 0; i < count_; ++i) bigger[i] = at(i);
  ring_.swap(bigger);
  head_ = 0;
}

bool RateWindow::tryAccept(fleet::SteadyTime now) {
  while (count_ > 0 && at(0) <= now - window_) {
    head_ = static_cast<std::uint32_t>((head_ + 1) % ring_.size());
    --count_;
  }
  if (limit_ > 0 && static_cast<int>(count_) >= limit_) return false;
  if (count_ == ring_.size()) grow();
  at(count_) = now;
  ++count_;
  if (static_cast<int>(count_) > max_per_window_) max_per_window_ = static_cast<int>(count_);
  return true;
}

}  // namespace greenfleet::emulator
