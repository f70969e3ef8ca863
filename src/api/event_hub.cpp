#include "api/event_hub.hpp"

#include <algorithm>

#include "fleet/log.hpp"

namespace greenfleet::api {

namespace {
const fleet::Log kLog{"api"};
constexpr std::size_t kReadBatch = 1000;
}  // namespace

std::vector<store::StateEvent> EventHub::Subscription::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [this] { return !queue_.empty() || dropped_ || closed_; });
  if (dropped_ || closed_) return {};
  std::vector<store::StateEvent> out(std::make_move_iterator(queue_.begin()),
                                     std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

bool EventHub::Subscription::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

bool EventHub::Subscription::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
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
  for (auto& s : subs) {
    std::lock_guard lock(s->mutex_);
    s->closed_ = true;
    s->ready_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<EventHub::Subscription> EventHub::subscribe() {
  std::lock_guard lock(mutex_);
  if (!running_ || subscribers_.size() >= options_.max_subscribers) return nullptr;
  subscribers_.push_back(std::make_shared<Subscription>());
  return subscribers_.back();
}

void EventHub::unsubscribe(const std::shared_ptr<Subscription>& subscription) {
  std::lock_guard lock(mutex_);
  subscribers_.erase(std::remove(subscribers_.begin(), subscribers_.end(), subscription),
                     subscribers_.end());
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
    for (auto& sub : subscribers_) {
      std::lock_guard sub_lock(sub->mutex_);
      if (sub->dropped_) continue;
      if (sub->queue_.size() + events.size() > options_.max_queue) {
        sub->dropped_ = true;
        sub->queue_.clear();
      } else {
        sub->queue_.insert(sub->queue_.end(), events.begin(), events.end());
      }
      sub->ready_.notify_all();
    }
  }
}

}  // namespace greenfleet::api
