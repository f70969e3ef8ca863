#include "emulator/rate_window.hpp"

namespace greenfleet::emulator {

bool RateWindow::tryAccept(fleet::SteadyTime now) {
  while (!accepted_.empty() && accepted_.front() <= now - window_) accepted_.pop_front();
  if (limit_ > 0 && static_cast<int>(accepted_.size()) >= limit_) return false;
  accepted_.push_back(now);
  if (static_cast<int>(accepted_.size()) > max_per_window_) {
    max_per_window_ = static_cast<int>(accepted_.size());
  }
  return true;
}

}  // namespace greenfleet::emulator
