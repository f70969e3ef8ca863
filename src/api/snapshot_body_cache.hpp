#pragma once
// SnapshotBodyCache: response bodies rendered from one fleet snapshot, reused by every request
// that asks the same question (the same query) of that snapshot. Dashboards poll /summary and
// /needs-scan every second from many screens: rendering 1,000 items of JSON per request, when
// the answer cannot have changed, is what made them slow. A new snapshot drops the old bodies.
// Thread-safe; one render per (snapshot, key).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "api/cached_body.hpp"

namespace greenfleet::api {

class SnapshotBodyCache {
 public:
  // The body for `key` rendered from `snapshot`, rendering it with `render` on first use.
  std::shared_ptr<const CachedBody> get(const std::shared_ptr<const void>& snapshot,
                                        const std::string& key,
                                        const std::function<std::string()>& render);
  // The body for `key` if it was already rendered from `snapshot`; never renders.
  std::shared_ptr<const CachedBody> peek(const std::shared_ptr<const void>& snapshot,
                                         const std::string& key);

 private:
  static constexpr std::size_t kMaxKeys = 64;  // distinct queries kept per snapshot
  std::mutex mutex_;
  std::shared_ptr<const void> snapshot_;
  std::map<std::string, std::shared_ptr<const CachedBody>> bodies_;
};

}  // namespace greenfleet::api
