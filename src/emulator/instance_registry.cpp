#include "emulator/instance_registry.hpp"

#include <fmt/format.h>

namespace greenfleet::emulator {

namespace {
// Looks like a real WhatsApp idInstance (docs examples start at 1101000001).
constexpr std::int64_t kFirstId = 1101000001;
}  // namespace

InstanceRegistry::InstanceRegistry(const base::Clock& clock, const EmulatorOptions& options)
    : clock_(clock),
      options_(options),
      first_id_(kFirstId),
      global_faults_(std::make_shared<const FaultProfile>()),
      partner_token_("gac." + tokenFor(options.seed, -1).substr(0, 42)) {}

std::vector<std::int64_t> InstanceRegistry::add(int count, const std::string& state) {
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(std::max(0, count)));
  const auto now = clock_.steadyNow();
  std::unique_lock lock(map_mutex_);
  for (int i = 0; i < count; ++i) {
    const std::int64_t id = first_id_ + static_cast<std::int64_t>(slots_.size());
    slots_.emplace_back(id, state, now, options_);
    ids.push_back(id);
  }
  return ids;
}

std::vector<std::int64_t> InstanceRegistry::ids() const {
  std::shared_lock lock(map_mutex_);
  std::vector<std::int64_t> out;
  out.reserve(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    out.push_back(first_id_ + static_cast<std::int64_t>(i));
  }
  return out;
}

std::size_t InstanceRegistry::size() const {
  std::shared_lock lock(map_mutex_);
  return slots_.size();
}

EmulatedInstance* InstanceRegistry::find(std::int64_t id) {
  std::shared_lock lock(map_mutex_);
  if (id < first_id_ || id - first_id_ >= static_cast<std::int64_t>(slots_.size())) return nullptr;
  // A deque never moves its elements on emplace_back, and slots are never removed.
  return &slots_[static_cast<std::size_t>(id - first_id_)];
}

void InstanceRegistry::tick() { tick(ids()); }

void InstanceRegistry::tick(const std::vector<std::int64_t>& ids) {
  for (const auto id : ids) {
    with(id, [](EmulatedInstance&, base::SteadyTime, std::vector<Transition>&) {});
  }
}

void InstanceRegistry::publish(const std::vector<Transition>& transitions) {
  if (transitions.empty()) return;
  TransitionSink sink;
  {
    std::lock_guard lock(misc_mutex_);
    sink = sink_;
  }
  if (!sink) return;
  for (const auto& t : transitions) sink(t);
}

void InstanceRegistry::setTransitionSink(TransitionSink sink) {
  std::lock_guard lock(misc_mutex_);
  sink_ = std::move(sink);
}

void InstanceRegistry::setGlobalFaults(FaultProfile faults) {
  std::lock_guard lock(misc_mutex_);
  global_faults_ = std::make_shared<const FaultProfile>(std::move(faults));
}

std::shared_ptr<const FaultProfile> InstanceRegistry::globalFaults() const {
  std::lock_guard lock(misc_mutex_);
  return global_faults_;
}

}  // namespace greenfleet::emulator
