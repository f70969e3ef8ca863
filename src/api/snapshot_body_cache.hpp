#pragma once
// SnapshotBodyCache: response bodies rendered from one fleet snapshot, reused by every request
// that asks the same question (the same query) of that snapshot. Dashboards poll /summary and
// /needs-scan every second from many screens: rendering 1,000 items of JSON per request, when
// the answer cannot have changed, is what made them slow. Rendering happens outside the lock, so
// readers on the HTTP loop never wait for it; while a newer body is being made (or the snapshot
// rebuilt), the previous one may be served for up to a second. Ages are read from the injected
// clock (one virtual call, no lock of its own). Thread-safe.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/cached_body.hpp"
#include "base/clock.hpp"
#include "scheduler/fleet_poller.hpp"

namespace greenfleet::api {

class SnapshotBodyCache {
 public:
  explicit SnapshotBodyCache(const base::Clock& clock) : clock_(clock) {}
  // The body for `key` rendered from `snapshot`, rendering it with `render` on first use.
  std::shared_ptr<const CachedBody> get(const std::shared_ptr<const void>& snapshot,
                                        const std::string& key,
                                        const std::function<std::string()>& render);
  // The body for `key` if it was already rendered from `snapshot`; never renders, never waits
  // for a render.
  std::shared_ptr<const CachedBody> peek(const std::shared_ptr<const void>& snapshot,
                                         const std::string& key);
  // The newest body for `key`, whatever its snapshot, if it was made within `max_age`: for
  // readers that would otherwise wait while a fresher one is being made. With `snapshot`, only
  // while the body of that snapshot is being rendered.
  std::shared_ptr<const CachedBody> recent(const std::string& key,
                                           std::chrono::milliseconds max_age,
                                           const std::shared_ptr<const void>& snapshot = nullptr);

  // For the HTTP loop: the body for `key` of the poller's fresh snapshot, or, while a newer
  // snapshot or body is being made by someone else, the previous one (at most a second old).
  // nullptr: a worker has to make it.
  std::shared_ptr<const CachedBody> fastBody(const scheduler::FleetPoller& poller,
                                             const std::string& key);

 private:
  struct Slot {
    std::shared_ptr<const void> snapshot;
    std::shared_ptr<const CachedBody> body;
    base::SteadyTime made{};
    bool rendering = false;
  };
  static constexpr std::size_t kMaxKeys = 64;  // distinct queries kept
  const base::Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, Slot> slots_;
};

}  // namespace greenfleet::api
