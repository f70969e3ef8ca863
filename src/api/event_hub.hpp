#pragma once
// EventHub: fans the event log out to live subscribers (the SSE streams). One tailer thread reads
// new state_events rows every poll interval and pushes them, in seq order, to each subscriber's
// sink; a sink never blocks (it queues bytes on the HTTP front, which drops a reader that falls
// too far behind). Until its sink is attached a subscription buffers at most max_queue events
// (more: it is dropped, and the client reconnects with Last-Event-ID). Streams are capped in all
// and per API key. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/state_event_log.hpp"

namespace greenfleet::api {

struct EventHubOptions {
  std::chrono::milliseconds poll_interval{200};
  std::size_t max_queue = 1000;
  std::size_t max_subscribers = 1000;
  std::size_t max_per_owner = 8;  // streams one API key may hold open
};

class EventHub {
 public:
  // Receives new events (seq ascending); false ends the subscription. Called from the tailer
  // thread, never concurrently for one subscription; must not block.
  using Sink = std::function<bool(const std::vector<store::StateEvent>&)>;

  class Subscription {
   public:
    explicit Subscription(std::string owner) : owner_(std::move(owner)) {}
    // Starts delivery: first what was buffered since subscribe(), then every new batch.
    // `on_end` runs once when the hub stops or drops the subscription.
    void attach(Sink sink, std::function<void()> on_end);
    bool dropped() const;

   private:
    friend class EventHub;
    // Under the hub's lock. False when the subscription is (now) finished.
    bool deliver(const std::vector<store::StateEvent>& events, std::size_t max_queue);
    void end(bool dropped);

    const std::string owner_;
    mutable std::mutex mutex_;
    std::vector<store::StateEvent> buffered_;
    Sink sink_;
    std::function<void()> on_end_;
    bool dropped_ = false;
    bool ended_ = false;
  };

  enum class Refusal { none, hub_full, owner_full, stopped };

  EventHub(store::StateEventLog& log, EventHubOptions options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void start();
  // Ends every subscription and the tailer.
  void stop();
  // nullptr and the reason when the hub or this owner's share is full, or the hub stopped.
  std::shared_ptr<Subscription> subscribe(const std::string& owner, Refusal* refusal = nullptr);
  void unsubscribe(const std::shared_ptr<Subscription>& subscription);
  std::size_t subscribers() const;
  store::StateEventLog& log() { return log_; }

 private:
  void run();

  store::StateEventLog& log_;
  const EventHubOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable stop_;
  std::vector<std::shared_ptr<Subscription>> subscribers_;
  std::map<std::string, std::size_t, std::less<>> per_owner_;
  bool running_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::api
