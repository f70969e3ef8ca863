#include "api/snapshot_body_cache.hpp"

namespace greenfleet::api {

std::shared_ptr<const CachedBody> SnapshotBodyCache::get(
    const std::shared_ptr<const void>& snapshot, const std::string& key,
    const std::function<std::string()>& render) {
  {
    std::lock_guard lock(mutex_);
    const auto it = slots_.find(key);
    if (it != slots_.end() && it->second.snapshot == snapshot) return it->second.body;
    if (it != slots_.end()) it->second.rendering = true;
  }
  // Two readers may render the same body at once; that costs a render, never a wait.
  auto body = std::make_shared<const CachedBody>(render());
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(key);
  if (it == slots_.end() && slots_.size() >= kMaxKeys) return body;
  Slot& slot = slots_[key];
  slot.snapshot = snapshot;
  slot.body = body;
  slot.made = clock_.steadyNow();
  slot.rendering = false;
  return body;
}

std::shared_ptr<const CachedBody> SnapshotBodyCache::peek(
    const std::shared_ptr<const void>& snapshot, const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(key);
  if (it == slots_.end() || it->second.snapshot != snapshot) return nullptr;
  return it->second.body;
}

std::shared_ptr<const CachedBody> SnapshotBodyCache::recent(
    const std::string& key, std::chrono::milliseconds max_age,
    const std::shared_ptr<const void>& snapshot) {
  std::lock_guard lock(mutex_);
  const auto it = slots_.find(key);
  if (it == slots_.end() || clock_.steadyNow() - it->second.made > max_age) {
    return nullptr;
  }
  if (snapshot && it->second.snapshot != snapshot && !it->second.rendering) return nullptr;
  return it->second.body;
}

std::shared_ptr<const CachedBody> SnapshotBodyCache::fastBody(const scheduler::FleetPoller& poller,
                                                              const std::string& key) {
  constexpr auto kMaxStale = std::chrono::milliseconds(1000);
  bool rebuilding = false;
  const auto snapshot = poller.snapshotIfFresh(&rebuilding);
  if (snapshot) {
    if (auto body = peek(snapshot, key)) return body;
    return recent(key, kMaxStale, snapshot);
  }
  return rebuilding ? recent(key, kMaxStale) : nullptr;
}

}  // namespace greenfleet::api
