#pragma once
// FleetIndex: the fleet-wide views the API asks for — how many instances are in each state and
// attention, and the needs-scan list longest-waiting first — kept up to date on every status
// change instead of recomputed by a walk over the fleet. An update costs O(log n); a count query
// O(states); the needs-scan list O(limit). Attention that changes with time alone (a grace period
// ends, starting turns stuck, an answer turns stale) is driven by a timer queue keyed by
// fleet::attentionChangesAt: a query at `now` first re-derives the instances whose timer is due
// (amortised O(log n) each), never the rest.
//
// The owner (ProbeScheduler) holds the statuses and reports every change with update()/remove();
// the index keeps per instance only its derived attention, state and needs-scan key, and reads a
// status back through `StatusLookup` when its timer fires. Queries are const: the time-driven
// catch-up they do is a cache of a function of (statuses, now); `now` must never go backwards.
// NOT thread-safe: the owner serialises all access.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.hpp"
#include "fleet/attention.hpp"
#include "fleet/attention_rules.hpp"
#include "fleet/instance_id.hpp"
#include "fleet/instance_status.hpp"

namespace greenfleet::scheduler {

using SteadyTime = base::SteadyTime;

// How many instances are in each state and attention at one `now` (for /summary, /metrics).
// byState keys are fleet::InstanceState::name() ("unknown" = never read); states with no
// instance are left out.
struct FleetCounts {
  std::size_t instances = 0;
  std::unordered_map<std::string, std::size_t> byState;
  std::array<std::size_t, fleet::kAttentionCount> byAttention{};  // index = fleet::Attention
  std::size_t needsScan = 0;
};

class FleetIndex {
 public:
  using StatusLookup = std::function<const fleet::InstanceStatus*(fleet::InstanceId)>;
  // Told of every change of an instance's derived attention (from → to; a removal ends in none),
  // whether a status change or a timer caused it. Runs inside the owner's lock: must not block
  // or call back into the owner.
  using AttentionListener =
      std::function<void(fleet::InstanceId, fleet::Attention from, fleet::Attention to)>;

  FleetIndex(fleet::AttentionRules rules, StatusLookup lookup);

  // `id` (new or known) has this status as of `now`.
  void update(fleet::InstanceId id, const fleet::InstanceStatus& status, SteadyTime now);
  void remove(fleet::InstanceId id);
  void setAttentionListener(AttentionListener listener) { listener_ = std::move(listener); }

  std::size_t size() const { return records_.size(); }
  void reserve(std::size_t instances) { records_.reserve(instances); }
  FleetCounts counts(SteadyTime now) const;
  // The attention derived at `now`; none for an unknown id.
  fleet::Attention attention(fleet::InstanceId id, SteadyTime now) const;
  // Instances needing a scan at `now`, longest-waiting first (stateSince, then id); `visit(id)`
  // returns false to stop (a caller's limit), so a page costs O(limit).
  template <typename Visitor>
  void forEachNeedsScan(SteadyTime now, Visitor&& visit) const {
    advance(now);
    for (const auto& [since, id] : needs_scan_) {
      if (!visit(id)) return;
    }
  }
  // Timer items held, for tests and stats (bounded by about 2 × size()).
  std::size_t pendingTimers() const { return timers_.size(); }

 private:
  static constexpr SteadyTime kNoTimer = SteadyTime::max();
  struct Record {
    SteadyTime stateSince{};        // the needs-scan key while attention is needsScan
    SteadyTime timerAt = kNoTimer;  // the live timer item, if any
    std::uint32_t state = 0;        // slot in state_names_
    fleet::Attention attention = fleet::Attention::none;
  };
  struct Timer {
    SteadyTime at;
    fleet::InstanceId id;
    bool operator>(const Timer& o) const { return at != o.at ? at > o.at : id > o.id; }
  };

  // Applies the timers due by `now` (logically const, see above).
  void advance(SteadyTime now) const;
  void apply(fleet::InstanceId id, Record& record, const fleet::InstanceStatus& status,
             SteadyTime now) const;
  void leave(fleet::InstanceId id, const Record& record) const;
  void enter(fleet::InstanceId id, const Record& record) const;
  std::uint32_t stateSlot(std::string_view name);
  void compactTimersIfBloated() const;
  void told(fleet::InstanceId id, fleet::Attention from, fleet::Attention to) const {
    if (listener_ && from != to) listener_(id, from, to);
  }

  const fleet::AttentionRules rules_;
  const StatusLookup lookup_;
  AttentionListener listener_;
  std::vector<std::string> state_names_;
  std::unordered_map<std::string, std::uint32_t> state_slots_;
  // Derived views; mutable because time-driven catch-up happens in const queries.
  mutable std::unordered_map<fleet::InstanceId, Record> records_;
  mutable std::vector<std::size_t> by_state_;  // index = state slot
  mutable std::array<std::size_t, fleet::kAttentionCount> by_attention_{};
  mutable std::set<std::pair<SteadyTime, fleet::InstanceId>> needs_scan_;
  mutable std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
};

}  // namespace greenfleet::scheduler
