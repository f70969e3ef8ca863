#pragma once
// ControllableClock: the emulator's clock under `emulate --controllable-clock`, for tests only.
// It starts at the moment it is made and stands still until POST /_emulator/clock/advance moves
// it, so rate windows, state timers, QR rotation and websocket deadlines move exactly when a test
// says: a burst is "inside one window" however slow the machine. Thread-safe.

#include <atomic>

#include "fleet/clock.hpp"

namespace greenfleet::emulator {

class ControllableClock final : public fleet::Clock {
 public:
  // Frozen at `start`'s present reading (wall time stays realistic in answers and webhooks).
  explicit ControllableClock(const fleet::Clock& start)
      : steady_origin_(start.steadyNow()), wall_origin_(start.wallNow()) {}

  fleet::SteadyTime steadyNow() const override { return steady_origin_ + elapsed(); }
  fleet::WallTime wallNow() const override {
    return wall_origin_ + std::chrono::duration_cast<fleet::WallTime::duration>(elapsed());
  }
  void advance(fleet::Duration by) { offset_ += by.count(); }
  fleet::Duration elapsed() const { return fleet::Duration(offset_.load()); }

 private:
  fleet::SteadyTime steady_origin_;
  fleet::WallTime wall_origin_;
  std::atomic<fleet::Duration::rep> offset_{0};
};

}  // namespace greenfleet::emulator
