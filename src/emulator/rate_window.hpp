#pragma once
// RateWindow: a sliding-window limiter. A request at `now` is accepted when fewer than `limit`
// requests were accepted in (now - window, now]; rejected requests are not counted. Also records
// the most accepted requests ever seen inside one window (maxPerWindow). A value type; not
// thread-safe (the owning EmulatedInstance's lock guards it).

#include <cstdint>
#include <deque>

#include "fleet/clock.hpp"

namespace greenfleet::emulator {

class RateWindow {
 public:
  RateWindow(int limit, fleet::Duration window) : limit_(limit), window_(window) {}

  bool tryAccept(fleet::SteadyTime now);
  int maxPerWindow() const { return max_per_window_; }
  void resetMax() { max_per_window_ = 0; }
  int limit() const { return limit_; }

 private:
  int limit_;
  fleet::Duration window_;
  std::deque<fleet::SteadyTime> accepted_;
  int max_per_window_ = 0;
};

}  // namespace greenfleet::emulator
