#pragma once
// RateWindow: a sliding-window limiter. A request at `now` is accepted when fewer than `limit`
// requests were accepted in (now - window, now]; rejected requests are not counted. Also records
// the most accepted requests ever seen inside one window (maxPerWindow). The accepted times live
// in a ring of `limit` slots: inline for the small limits Green API uses (1–3 per second), so a
// polled instance's window costs no heap; larger and unlimited windows grow on the heap.
// A value type; not thread-safe (the owning EmulatedInstance's lock guards it).

#include <cstdint>
#include <memory>

#include "base/clock.hpp"

namespace greenfleet::emulator {

class RateWindow {
 public:
  // limit <= 0: unlimited (still counts maxPerWindow).
  RateWindow(int limit, base::Duration window) : limit_(limit), window_(window) {}
  RateWindow(const RateWindow& o);
  RateWindow& operator=(const RateWindow& o);
  RateWindow(RateWindow&&) noexcept = default;
  RateWindow& operator=(RateWindow&&) noexcept = default;

  bool tryAccept(base::SteadyTime now);
  int maxPerWindow() const { return max_per_window_; }
  void resetMax() { max_per_window_ = 0; }
  int limit() const { return limit_; }

 private:
  static constexpr std::uint32_t kInline = 3;
  base::SteadyTime* ring() { return heap_ ? heap_.get() : inline_; }
  base::SteadyTime& at(std::uint32_t i) { return ring()[(head_ + i) % capacity_]; }
  void grow();

  int limit_;
  int max_per_window_ = 0;
  base::Duration window_;
  std::uint32_t head_ = 0;
  std::uint32_t count_ = 0;
  std::uint32_t capacity_ = kInline;
  base::SteadyTime inline_[kInline]{};
  std::unique_ptr<base::SteadyTime[]> heap_;  // when more than kInline times are held
};

}  // namespace greenfleet::emulator
