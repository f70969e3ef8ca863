#include "scheduler/fleet_index.hpp"

namespace greenfleet::scheduler {

namespace {
constexpr std::size_t idx(fleet::Attention a) { return static_cast<std::size_t>(a); }
}  // namespace

FleetIndex::FleetIndex(fleet::AttentionRules rules, StatusLookup lookup)
    : rules_(std::move(rules)), lookup_(std::move(lookup)) {}

std::uint32_t FleetIndex::stateSlot(std::string_view name) {
  if (const auto it = state_slots_.find(std::string(name)); it != state_slots_.end()) {
    return it->second;
  }
  const auto slot = static_cast<std::uint32_t>(state_names_.size());
  state_names_.emplace_back(name);
  state_slots_.emplace(std::string(name), slot);
  by_state_.push_back(0);
  return slot;
}

void FleetIndex::leave(fleet::InstanceId id, const Record& record) const {
  --by_state_[record.state];
  --by_attention_[idx(record.attention)];
  if (record.attention == fleet::Attention::needsScan) needs_scan_.erase({record.stateSince, id});
}

void FleetIndex::enter(fleet::InstanceId id, const Record& record) const {
  ++by_state_[record.state];
  ++by_attention_[idx(record.attention)];
  if (record.attention == fleet::Attention::needsScan) needs_scan_.emplace(record.stateSince, id);
}

void FleetIndex::apply(fleet::InstanceId id, Record& record, const fleet::InstanceStatus& status,
                       SteadyTime now) const {
  record.attention = fleet::deriveAttention(status, now, rules_);
  record.stateSince = status.stateSince;
  // Keep an earlier timer item: it fires, re-derives and asks again. Only an earlier change
  // needs a new item, so an instance holds about one item however often it is probed.
  if (const auto at = fleet::attentionChangesAt(status, now, rules_); at && *at < record.timerAt) {
    record.timerAt = *at;
    timers_.push(Timer{*at, id});
    compactTimersIfBloated();
  }
}

void FleetIndex::update(fleet::InstanceId id, const fleet::InstanceStatus& status, SteadyTime now) {
  advance(now);
  const std::uint32_t state = stateSlot(status.state.name());
  auto [it, inserted] = records_.try_emplace(id);
  Record& record = it->second;
  const auto before = inserted ? fleet::Attention::none : record.attention;
  if (!inserted) leave(id, record);
  record.state = state;
  apply(id, record, status, now);
  enter(id, record);
  told(id, before, record.attention);
}

void FleetIndex::remove(fleet::InstanceId id) {
  const auto it = records_.find(id);
  if (it == records_.end()) return;
  leave(id, it->second);
  const auto before = it->second.attention;
  records_.erase(it);  // its timer item dies lazily: the id no longer resolves
  told(id, before, fleet::Attention::none);
}

void FleetIndex::advance(SteadyTime now) const {
  while (!timers_.empty() && timers_.top().at <= now) {
    const Timer timer = timers_.top();
    timers_.pop();
    const auto it = records_.find(timer.id);
    if (it == records_.end() || it->second.timerAt != timer.at) continue;  // superseded
    Record& record = it->second;
    record.timerAt = kNoTimer;
    const fleet::InstanceStatus* status = lookup_(timer.id);
    if (!status) continue;
    const auto before = record.attention;
    leave(timer.id, record);
    apply(timer.id, record, *status, now);
    enter(timer.id, record);
    told(timer.id, before, record.attention);
  }
}

void FleetIndex::compactTimersIfBloated() const {
  // Superseded and removed items stay until popped; rebuild once they dominate.
  if (timers_.size() <= 2 * records_.size() + 1024) return;
  std::vector<Timer> live;
  live.reserve(records_.size());
  for (const auto& [id, record] : records_) {
    if (record.timerAt != kNoTimer) live.push_back(Timer{record.timerAt, id});
  }
  timers_ = decltype(timers_)(std::greater<>(), std::move(live));
}

FleetCounts FleetIndex::counts(SteadyTime now) const {
  advance(now);
  FleetCounts out;
  out.instances = records_.size();
  for (std::size_t slot = 0; slot < state_names_.size(); ++slot) {
    if (by_state_[slot] > 0) out.byState.emplace(state_names_[slot], by_state_[slot]);
  }
  out.byAttention = by_attention_;
  out.needsScan = by_attention_[idx(fleet::Attention::needsScan)];
  return out;
}

fleet::Attention FleetIndex::attention(fleet::InstanceId id, SteadyTime now) const {
  advance(now);
  const auto it = records_.find(id);
  return it == records_.end() ? fleet::Attention::none : it->second.attention;
}

}  // namespace greenfleet::scheduler
