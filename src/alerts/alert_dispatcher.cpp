#include "alerts/alert_dispatcher.hpp"

#include <fmt/format.h>

#include <utility>

#include "base/log.hpp"
#include "base/time_format.hpp"

namespace greenfleet::alerts {

namespace {
const base::Log kLog{"alerts"};

// Changes that say nothing about the condition itself, only that greenfleet cannot see it.
bool lostSight(fleet::Attention a) {
  return a == fleet::Attention::stale || a == fleet::Attention::unreachable;
}
}  // namespace

AlertDispatcher::AlertDispatcher(AlertDispatcherOptions options, const base::Clock& clock,
                                 AlertHooks hooks)
    : options_(std::move(options)),
      clock_(clock),
      hooks_(std::move(hooks)),
      queue_(options_.targets.size(), options_.queue) {}

AlertDispatcher::~AlertDispatcher() { stop(); }

void AlertDispatcher::start() {
  std::lock_guard lock(mutex_);
  if (running_ || options_.targets.empty()) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void AlertDispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    running_ = false;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (const auto lost = queue_.pending(); lost > 0) {
    kLog.warn("event=alerts_lost_at_shutdown notices={}", lost);
  }
}

void AlertDispatcher::onAttention(fleet::InstanceId id, fleet::Attention from,
                                  fleet::Attention to) {
  const auto at_ms = base::toUnixMillis(clock_.wallNow());
  std::lock_guard lock(mutex_);
  // Before start(): the load of the stored fleet, whose conditions are not news.
  if (!running_) return;
  for (const auto reason : options_.reasons) {
    const bool entered = to == reason && from != reason;
    const bool left = from == reason && to != reason && !lostSight(to);
    if (!entered && !left) continue;
    // Bounded like a target's queue, so a storm of changes cannot grow memory without end.
    if (incoming_.size() >= options_.queue.max_per_target) {
      ++intake_dropped_;
      continue;
    }
    incoming_.push_back(Change{id, reason, entered, at_ms});
  }
  wake_.notify_all();
}

void AlertDispatcher::admit(const std::vector<Change>& changes, std::uint64_t intake_dropped) {
  const std::uint64_t dropped_before = queue_.dropped();
  for (const auto& c : changes) {
    AlertNotice notice;
    notice.id = c.id;
    notice.name = hooks_.describe(c.id);
    notice.reason = c.reason;
    notice.entered = c.entered;
    notice.at_ms = c.at_ms;
    if (!options_.dashboard_url.empty()) {
      notice.dashboard_url = fmt::format("{}#/instances/{}", options_.dashboard_url, c.id);
    }
    queue_.push(notice);
  }
  if (const auto dropped = queue_.dropped() - dropped_before + intake_dropped; dropped > 0) {
    kLog.warn("event=alerts_dropped notices={} reason=queue_full", dropped);
    hooks_.dropped(dropped);
  }
}

void AlertDispatcher::deliverDue() {
  while (auto delivery = queue_.next(clock_.steadyNow())) {
    const auto& target = options_.targets[delivery->target];
    const std::string body = target.format == AlertTarget::Format::slack
                                 ? renderSlackJson(delivery->notice)
                                 : renderGenericJson(delivery->notice);
    const auto result = postJson(target.url, body, options_.timeout);
    std::optional<std::chrono::milliseconds> retry_in;
    if (result.ok) {
      queue_.succeeded(delivery->target);
    } else {
      retry_in = queue_.failed(delivery->target, clock_.steadyNow());
      kLog.warn("event=alert_failed target={} error=\"{}\" attempt={} retry_ms={}", target.label(),
                result.error, delivery->attempt, retry_in->count());
    }
    hooks_.report(*delivery, target, result, retry_in);
    std::lock_guard lock(mutex_);
    if (!running_) return;
  }
}

void AlertDispatcher::run() {
  auto next_tick = clock_.steadyNow();
  std::unique_lock lock(mutex_);
  while (running_) {
    lock.unlock();
    if (clock_.steadyNow() >= next_tick) {
      hooks_.tick();
      next_tick = clock_.steadyNow() + options_.tick;
    }
    lock.lock();
    std::vector<Change> changes;
    changes.swap(incoming_);
    const auto intake_dropped = std::exchange(intake_dropped_, 0);
    lock.unlock();
    admit(changes, intake_dropped);
    deliverDue();
    lock.lock();
    if (!running_ || !incoming_.empty()) continue;
    auto until = next_tick;
    if (const auto due = queue_.nextDueAt(); due && *due < until) until = *due;
    const auto wait = std::max(until - clock_.steadyNow(), base::SteadyTime::duration::zero());
    wake_.wait_for(lock, wait);
  }
}

}  // namespace greenfleet::alerts
