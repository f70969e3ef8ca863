#include "api/snapshot_body_cache.hpp"

namespace greenfleet::api {

std::shared_ptr<const CachedBody> SnapshotBodyCache::get(
    const std::shared_ptr<const void>& snapshot, const std::string& key,
    const std::function<std::string()>& render) {
  std::lock_guard lock(mutex_);
  if (snapshot_ != snapshot) {
    snapshot_ = snapshot;
    bodies_.clear();
  }
  if (const auto it = bodies_.find(key); it != bodies_.end()) return it->second;
  auto body = std::make_shared<const CachedBody>(render());
  if (bodies_.size() < kMaxKeys) bodies_.emplace(key, body);
  return body;
}

std::shared_ptr<const CachedBody> SnapshotBodyCache::peek(
    const std::shared_ptr<const void>& snapshot, const std::string& key) {
  std::lock_guard lock(mutex_);
  if (snapshot_ != snapshot) return nullptr;
  const auto it = bodies_.find(key);
  return it == bodies_.end() ? nullptr : it->second;
}

}  // namespace greenfleet::api
