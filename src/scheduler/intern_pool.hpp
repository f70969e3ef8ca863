#pragma once
// InternPool: one shared, immutable copy of each distinct value. A fleet's instances mostly share
// one apiUrl and a few tag sets; a copy of each per instance cost ~100 B at a million instances.
// Values nobody holds any more are dropped whenever the pool has doubled since the last sweep.
// Not thread-safe: the owner's lock guards it.

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>

namespace greenfleet::scheduler {

template <typename T>
class InternPool {
 public:
  std::shared_ptr<const T> intern(const T& value) {
    if (const auto it = pool_.find(value); it != pool_.end()) return it->second;
    if (pool_.size() >= sweep_at_) sweep();
    auto shared = std::make_shared<const T>(value);
    pool_.emplace(value, shared);
    return shared;
  }

  std::size_t size() const { return pool_.size(); }

 private:
  void sweep() {
    std::erase_if(pool_, [](const auto& kv) { return kv.second.use_count() == 1; });
    sweep_at_ = std::max<std::size_t>(kMinSweepAt, 2 * pool_.size());
  }

  static constexpr std::size_t kMinSweepAt = 64;
  std::map<T, std::shared_ptr<const T>> pool_;
  std::size_t sweep_at_ = kMinSweepAt;
};

}  // namespace greenfleet::scheduler
