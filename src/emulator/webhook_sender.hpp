#pragma once
// WebhookSender: delivers stateInstanceChanged notifications, in Green API's exact body format,
// to the URL given with each (the instance's webhookUrl, or the emulator's --webhook-url) with
// `Authorization: Bearer <token>` (its webhookUrlToken), from its own thread. enqueue()
// never blocks on the network (bounded queue; the oldest notification is dropped when full).
// Thread-safe.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.hpp"
#include "emulator/emulated_instance.hpp"

namespace greenfleet::emulator {

class WebhookSender {
 public:
  explicit WebhookSender(const base::Clock& clock);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void enqueue(const std::string& url, const std::string& token, const Transition& transition);
  void stop();

  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t dropped() const { return dropped_; }

  // The body Green API posts for a state change (reference §8).
  static std::string body(const Transition& transition, base::WallTime at);

 private:
  struct Delivery {
    std::string url;
    std::string token;
    std::string body;
  };
  void run();
  bool post(const Delivery& delivery);

  const base::Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Delivery> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace greenfleet::emulator
