#pragma once
// AlertQueue: what is still to be delivered to each alert target, in order, with per-target
// retry backoff. An enter for an instance and reason that is already open (entered, not left)
// is dropped on push, so a receiver sees each condition begin once. A target
// that keeps failing holds its notices up to `max_per_target`; beyond that the oldest waiting
// one is dropped and counted. Pure and driven by the `now` it is given. NOT thread-safe.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "alerts/alert_notice.hpp"
#include "base/clock.hpp"

namespace greenfleet::alerts {

using SteadyTime = base::SteadyTime;

struct AlertQueueOptions {
  std::size_t max_per_target = 10000;
  std::chrono::milliseconds retry_min{1000};    // first retry after this
  std::chrono::milliseconds retry_max{300000};  // doubling stops here
};

struct AlertDelivery {
  std::size_t target = 0;
  AlertNotice notice;
  int attempt = 1;  // 1 = first try
};

class AlertQueue {
 public:
  AlertQueue(std::size_t targets, AlertQueueOptions options);

  // Queues the notice for every target; false when it enters a condition already open.
  bool push(const AlertNotice& notice);
  // The first delivery due at `now`: a target's oldest notice, unless the target waits out a
  // backoff or already has one out. The notice stays queued until succeeded()/failed().
  std::optional<AlertDelivery> next(SteadyTime now);
  void succeeded(std::size_t target);
  // The delivery failed: the target retries the same notice after the returned delay.
  std::chrono::milliseconds failed(std::size_t target, SteadyTime now);
  // When the next delivery becomes due (a backoff ends), nullopt when nothing waits.
  std::optional<SteadyTime> nextDueAt() const;

  std::size_t pending() const;
  std::uint64_t dropped() const { return dropped_; }

 private:
  struct Target {
    std::deque<AlertNotice> notices;
    int failures = 0;  // consecutive, for the head notice
    SteadyTime retry_at{};
    bool out = false;  // the head is being delivered
  };
  const AlertQueueOptions options_;
  std::vector<Target> targets_;
  std::set<std::pair<std::int64_t, fleet::Attention>> open_;  // entered and not left
  std::uint64_t dropped_ = 0;
};

}  // namespace greenfleet::alerts
