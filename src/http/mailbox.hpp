#pragma once
// Mailbox: how any thread hands work to the event loop — a locked queue of commands plus an
// eventfd that wakes the loop. Posting from the loop thread itself skips the wake-up (the loop
// drains the queue before it waits again). After close() every post is dropped. Thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/exchange.hpp"
#include "http/message.hpp"

namespace greenfleet::http::detail {

struct Command {
  enum class Kind { respond, reset, stream_open, stream_data, stream_end, take_over };
  Kind kind = Kind::respond;
  std::uint64_t connection = 0;
  std::chrono::milliseconds delay{0};
  Response response;
  std::string data;
  std::shared_ptr<Stream> stream;
  StreamOptions stream_options;
  TakeOver take_over;
};

class Mailbox {
 public:
  Mailbox();
  ~Mailbox();
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // False when the mailbox is closed (the command was dropped).
  bool post(Command command);
  std::vector<Command> takeAll();
  void setLoopThread(std::thread::id id);
  void close();
  int wakeFd() const { return wake_fd_; }
  // Clears the eventfd counter after a wake-up.
  void acknowledgeWake();

 private:
  std::mutex mutex_;
  std::vector<Command> commands_;
  std::thread::id loop_thread_;
  bool open_ = true;
  bool wake_pending_ = false;
  int wake_fd_ = -1;
};

}  // namespace greenfleet::http::detail
