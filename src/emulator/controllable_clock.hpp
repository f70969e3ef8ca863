#pragma once
// ControllableClock: the emulator's clock under `emulate --controllable-clock`, for tests only.
// It starts at the moment it is made and stands still until POST /_emulator/clock/advance moves
// it, so rate windows, state timers, QR rotation and websocket deadlines move exactly when a test
// says: a burst is "inside one window" however slow the machine. Thread-safe.

#include <atomic>

#include "base/clock.hpp"

namespace greenfleet::emulator {

class ControllableClock final : public base::Clock {
 public:
  // Frozen at `start`'s present reading (wall time stays realistic in answers and webhooks).
  explicit ControllableClock(const base::Clock& start)
      : steady_origin_(start.steadyNow()), wall_origin_(start.wallNow()) {}

  base::SteadyTime steadyNow() const override { return steady_origin_ + elapsed(); }
  base::WallTime wallNow() const override {
    return wall_origin_ + std::chrono::duration_cast<base::WallTime::duration>(elapsed());
  }
  void advance(base::Duration by) { offset_ += by.count(); }
  base::Duration elapsed() const { return base::Duration(offset_.load()); }

 private:
  base::SteadyTime steady_origin_;
  base::WallTime wall_origin_;
  std::atomic<base::Duration::rep> offset_{0};
};

}  // namespace greenfleet::emulator
