#pragma once
// Polls a condition until it holds or the deadline passes; integration tests wait with this,
// never with a fixed sleep.

#include <chrono>
#include <thread>

namespace greenfleet::testing {

template <typename Predicate>
bool waitFor(Predicate&& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(20),
             std::chrono::milliseconds step = std::chrono::milliseconds(25)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace greenfleet::testing
