#pragma once
// EventHub: fans the event log out to live subscribers (the SSE stream). One tailer thread reads
// new state_events rows every poll interval and appends them to each subscriber's bounded queue;
// a subscriber that falls behind by more than max_queue events is marked dropped (its stream
// ends; the client reconnects with Last-Event-ID) instead of being buffered forever, so slow
// readers never slow the scheduler or each other. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store/state_event_log.hpp"

namespace greenfleet::api {

struct EventHubOptions {
  std::chrono::milliseconds poll_interval{200};
  std::size_t max_queue = 1000;
  std::size_t max_subscribers = 64;
};

class EventHub {
 public:
  class Subscription {
   public:
    // Waits up to `timeout` for events; empty on timeout, on drop and when the hub stops.
    std::vector<store::StateEvent> next(std::chrono::milliseconds timeout);
    bool dropped() const;
    bool closed() const;

   private:
    friend class EventHub;
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<store::StateEvent> queue_;
    bool dropped_ = false;
    bool closed_ = false;
  };

  EventHub(store::StateEventLog& log, EventHubOptions options);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void start();
  // Ends every subscription (their streams return) and the tailer.
  void stop();
  // nullptr when max_subscribers are connected.
  std::shared_ptr<Subscription> subscribe();
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
  bool running_ = false;
  std::thread thread_;
};

}  // namespace greenfleet::api
