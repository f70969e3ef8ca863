#include "api/event_hub.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace greenfleet::api {

namespace {
const base::Log kLog{"api"};
constexpr std::size_t kReadBatch = 1000;
}  // namespace

void EventHub::Subscription::attach(Sink sink, std::function<void()> on_end) {
  std::unique_lock lock(mutex_);
  if (ended_) {
    lock.unlock();
    if (on_end) on_end();
    return;
  }
  on_end_ = std::move(on_end);
  std::vector<store::StateEvent> backlog;
  backlog.swap(buffered_);
  if (!backlog.empty() && !sink(backlog)) {
    sink_ = {};
    lock.unlock();
    end(false);
    return;
  }
  sink_ = std::move(sink);
}

bool EventHub::Subscription::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

bool EventHub::Subscription::deliver(const std::vector<store::StateEvent>& events,
                                     std::size_t max_queue) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return false;
    if (sink_) {
      if (sink_(events)) return true;
    } else if (buffered_.size() + events.size() <= max_queue) {
      buffered_.insert(buffered_.end(), events.begin(), events.end());
      return true;
    } else {
      dropped_ = true;
      buffered_.clear();
    }
  }
  end(dropped());
  return false;
}

void EventHub::Subscription::end(bool dropped) {
  std::function<void()> on_end;
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    dropped_ = dropped_ || dropped;
    sink_ = {};
    on_end.swap(on_end_);
  }
  if (on_end) on_end();
}

EventHub::EventHub(store::StateEventLog& log, EventHubOptions options)
    : log_(log), options_(options) {}

EventHub::~EventHub() { stop(); }

void EventHub::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void EventHub::stop() {
  std::vector<std::shared_ptr<Subscription>> subs;
  {
    std::lock_guard lock(mutex_);
    if (!running_ && !thread_.joinable()) return;
    running_ = false;
    subs = subscribers_;
  }
  stop_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& s : subs) s->end(false);
}

std::shared_ptr<EventHub::Subscription> EventHub::subscribe(const std::string& owner,
                                                            Refusal* refusal) {
  const auto refuse = [&](Refusal why) -> std::shared_ptr<Subscription> {
    if (refusal != nullptr) *refusal = why;
    return nullptr;
  };
  std::lock_guard lock(mutex_);
  if (!running_) return refuse(Refusal::stopped);
  if (subscribers_.size() >= options_.max_subscribers) return refuse(Refusal::hub_full);
  auto& mine = per_owner_[owner];
  if (mine >= options_.max_per_owner) return refuse(Refusal::owner_full);
  ++mine;
  subscribers_.push_back(std::make_shared<Subscription>(owner));
  if (refusal != nullptr) *refusal = Refusal::none;
  return subscribers_.back();
}

void EventHub::unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  {
    std::lock_guard lock(mutex_);
    const auto it = std::find(subscribers_.begin(), subscribers_.end(), subscription);
    if (it != subscribers_.end()) {
      subscribers_.erase(it);
      const auto owner = per_owner_.find(subscription->owner_);
      if (owner != per_owner_.end() && --owner->second == 0) per_owner_.erase(owner);
    }
  }
  subscription->end(false);
}

std::size_t EventHub::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

void EventHub::run() {
  std::int64_t last = 0;
  try {
    last = log_.latestSeq();
  } catch (const std::exception& e) {
    kLog.error("event=event_hub_start_failed error=\"{}\"", e.what());
  }
  std::unique_lock lock(mutex_);
  while (running_) {
    stop_.wait_for(lock, options_.poll_interval, [this] { return !running_; });
    if (!running_) break;
    if (subscribers_.empty()) {
      lock.unlock();
      std::int64_t latest = last;
      try {
        latest = log_.latestSeq();
      } catch (const std::exception&) {
      }
      lock.lock();
      // Skip ahead only if still nobody listens: a subscriber that arrived while we read may
      // already have read its backlog up to an event below `latest`, and must get the rest.
      if (subscribers_.empty()) last = std::max(last, latest);
      continue;
    }
    lock.unlock();
    std::vector<store::StateEvent> events;
    try {
      events = log_.after(last, kReadBatch);
    } catch (const std::exception& e) {
      kLog.warn("event=event_hub_read_failed error=\"{}\"", e.what());
    }
    lock.lock();
    if (events.empty()) continue;
    last = events.back().seq;
    // Sinks only queue bytes, so delivering under the lock is cheap; a finished subscription
    // stays listed until its stream's close unsubscribes it.
    for (auto& sub : subscribers_) sub->deliver(events, options_.max_queue);
  }
}

}  // namespace greenfleet::api
