#pragma once
// Clock: the one source of time. Steady time measures intervals and schedules; wall time stamps
// what is stored or shown. Production uses SystemClock; tests drive a ManualClock.
// Both are thread-safe.

#include <atomic>
#include <chrono>

namespace greenfleet::base {

using SteadyTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime steadyNow() const = 0;
  virtual WallTime wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  SteadyTime steadyNow() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

// Starts at a fixed wall time (2026-01-01T00:00:00Z) and moves only when advanced.
class ManualClock final : public Clock {
 public:
  SteadyTime steadyNow() const override { return SteadyTime(Duration(offset_.load())); }
  WallTime wallNow() const override {
    return WallTime(std::chrono::seconds(1767225600)) +
           std::chrono::duration_cast<WallTime::duration>(Duration(offset_.load()));
  }
  void advance(Duration by) { offset_ += by.count(); }

 private:
  std::atomic<Duration::rep> offset_{
      std::chrono::duration_cast<Duration>(std::chrono::hours(1)).count()};
};

}  // namespace greenfleet::base
