#pragma once
// WebhookSender: delivers stateInstanceChanged notifications, in Green API's exact body format,
// to one configured URL with `Authorization: Bearer <token>`, from its own thread. enqueue()
// never blocks on the network (bounded queue; the oldest notification is dropped when full).
// Thread-safe.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "emulator/emulated_instance.hpp"
#include "fleet/clock.hpp"

namespace greenfleet::emulator {

class WebhookSender {
 public:
  WebhookSender(std::string url, std::string token, const fleet::Clock& clock);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void enqueue(const Transition& transition);
  void stop();

  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t dropped() const { return dropped_; }

  // The body Green API posts for a state change (reference §8).
  static std::string body(const Transition& transition, fleet::WallTime at);

 private:
  void run();
  bool post(const std::string& body);

  std::string url_;
  std::string token_;
  const fleet::Clock& clock_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace greenfleet::emulator
