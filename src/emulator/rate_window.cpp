#include "emulator/rate_window.hpp"

#include <algorithm>

namespace greenfleet::emulator {

RateWindow::RateWindow(const RateWindow& o)
    : limit_(o.limit_),
      max_per_window_(o.max_per_window_),
      window_(o.window_),
      head_(o.head_),
      count_(o.count_),
      capacity_(o.capacity_) {
  std::copy(std::begin(o.inline_), std::end(o.inline_), inline_);
  if (o.heap_) {
    heap_ = std::make_unique<base::SteadyTime[]>(capacity_);
    std::copy(o.heap_.get(), o.heap_.get() + capacity_, heap_.get());
  }
}

RateWindow& RateWindow::operator=(const RateWindow& o) {
  if (this != &o) *this = RateWindow(o);
  return *this;
}

void RateWindow::grow() {
  // Unlimited windows need room; keep the times oldest first.
  const std::uint32_t bigger = 2 * capacity_;
  auto fresh = std::make_unique<base::SteadyTime[]>(bigger);
  for (std::uint32_t i = 0; i < count_; ++i) fresh[i] = at(i);
  heap_ = std::move(fresh);
  capacity_ = bigger;
  head_ = 0;
}

bool RateWindow::tryAccept(base::SteadyTime now) {
  while (count_ > 0 && at(0) <= now - window_) {
    head_ = (head_ + 1) % capacity_;
    --count_;
  }
  if (limit_ > 0 && static_cast<int>(count_) >= limit_) return false;
  if (count_ == capacity_) grow();
  at(count_) = now;
  ++count_;
  if (static_cast<int>(count_) > max_per_window_) max_per_window_ = static_cast<int>(count_);
  return true;
}

}  // namespace greenfleet::emulator
