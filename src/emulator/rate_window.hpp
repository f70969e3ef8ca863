#pragma once
// RateWindow: a sliding-window limiter. A request at `now` is accepted when fewer than `limit`
// requests were accepted in (now - window, now]; rejected requests are not counted. Also records
// the most accepted requests ever seen inside one window (maxPerWindow). The accepted times live
// in a ring of `limit` slots, allocated on the first request (an unused window costs no heap).
// A value type; not thread-safe (the owning EmulatedInstance's lock guards it).

#include <cstdint>
#include <vector>

#include "fleet/clock.hpp"

namespace greenfleet::emulator {

class RateWindow {
 public:
  // limit <= 0: unlimited (still counts maxPerWindow).
  RateWindow(int limit, fleet::Duration window) : limit_(limit), window_(window) {}

  bool tryAccept(fleet::SteadyTime now);
  int maxPerWindow() const { return max_per_window_; }
  void resetMax() { max_per_window_ = 0; }
  int limit() const { return limit_; }

 private:
  fleet::SteadyTime& at(std::size_t i) { return ring_[(head_ + i) % ring_.size()]; }
  void grow();

  int limit_;
  int max_per_window_ = 0;
  fleet::Duration window_;
  std::vector<fleet::SteadyTime> ring_;  // accepted times, oldest at head_
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
};

}  // namespace greenfleet::emulator
