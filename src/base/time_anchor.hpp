#pragma once
// TimeAnchor: one simultaneous (steady, wall) pair, to convert the domain's steady times to the
// wall times SQLite and JSON show, and stored wall times back to steady at start. Take a fresh
// anchor per batch (clock.steadyNow(), clock.wallNow()); a wall-clock step moves only new
// conversions. Value type.

#include <chrono>

#include "base/clock.hpp"

namespace greenfleet::base {

struct TimeAnchor {
  SteadyTime steady{};
  WallTime wall{};

  static TimeAnchor of(const Clock& clock) { return {clock.steadyNow(), clock.wallNow()}; }
  WallTime toWall(SteadyTime t) const {
    return wall + std::chrono::duration_cast<WallTime::duration>(t - steady);
  }
  SteadyTime toSteady(WallTime t) const {
    return steady + std::chrono::duration_cast<Duration>(t - wall);
  }
};

}  // namespace greenfleet::base
