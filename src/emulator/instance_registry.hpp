#pragma once
// InstanceRegistry: owns every EmulatedInstance of a running emulator. An instance is guarded by
// one of kLockStripes mutexes (id modulo the stripe count), so requests to different instances
// rarely wait for each other and a million instances do not carry a million mutexes. Ids are
// consecutive and never removed, so the instances sit in a deque indexed by id (stable addresses,
// no per-id map node), guarded by a shared mutex (adds are rare). State transitions are handed to
// the transition sink after the instance lock is released. `with` must not nest. Thread-safe.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "emulator/emulated_instance.hpp"
#include "emulator/emulator_options.hpp"
#include "emulator/fault_profile.hpp"
#include "emulator/webhook_settings_table.hpp"

namespace greenfleet::emulator {

class InstanceRegistry {
 public:
  using TransitionSink = std::function<void(const Transition&)>;

  InstanceRegistry(const base::Clock& clock, const EmulatorOptions& options);

  // Creates `count` instances in `state`, ids continuing from the last one; returns their ids.
  std::vector<std::int64_t> add(int count, const std::string& state);
  std::vector<std::int64_t> ids() const;
  std::size_t size() const;

  // Runs fn(instance, now, transitions) under the instance's lock, after advancing it to now.
  // Returns false (fn not run) for an unknown id.
  template <typename Fn>
  bool with(std::int64_t id, Fn&& fn) {
    EmulatedInstance* instance = find(id);
    if (instance == nullptr) return false;
    std::vector<Transition> transitions;
    {
      std::lock_guard lock(stripes_[static_cast<std::uint64_t>(id) % kLockStripes]);
      const auto now = clock_.steadyNow();
      instance->advance(now, transitions);
      fn(*instance, now, transitions);
    }
    publish(transitions);
    return true;
  }

  // Advances every instance (so timed transitions reach the webhook without a request).
  void tick();
  // Advances only these instances (those with a webhook of their own).
  void tick(const std::vector<std::int64_t>& ids);
  // The webhook settings instances set with setSettings.
  WebhookSettingsTable& webhookSettings() { return webhook_settings_; }

  void setTransitionSink(TransitionSink sink);
  void setGlobalFaults(FaultProfile faults);
  std::shared_ptr<const FaultProfile> globalFaults() const;
  const std::string& partnerToken() const { return partner_token_; }
  // getInstances calls answered (any token): tests prove the sync never calls faster than allowed.
  std::uint64_t countPartnerCall() { return ++partner_calls_; }
  std::uint64_t partnerCalls() const { return partner_calls_.load(); }
  const base::Clock& clock() const { return clock_; }
  const EmulatorOptions& options() const { return options_; }

 private:
  static constexpr std::size_t kLockStripes = 4096;
  EmulatedInstance* find(std::int64_t id);
  void publish(const std::vector<Transition>& transitions);

  const base::Clock& clock_;
  const EmulatorOptions& options_;
  mutable std::shared_mutex map_mutex_;
  std::deque<EmulatedInstance> slots_;  // slots_[i] has id first_id_ + i
  std::array<std::mutex, kLockStripes> stripes_;
  const std::int64_t first_id_;
  mutable std::mutex misc_mutex_;  // guards sink_ and global_faults_
  TransitionSink sink_;
  std::shared_ptr<const FaultProfile> global_faults_;
  std::string partner_token_;
  std::atomic<std::uint64_t> partner_calls_{0};
  WebhookSettingsTable webhook_settings_;
};

}  // namespace greenfleet::emulator
