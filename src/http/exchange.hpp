#pragma once
// Exchange and Stream: the handle a handler answers through. An Exchange answers its request once
// (at once, after a delay, with a reset, as a stream, or by taking the socket over), from any
// thread; the event loop does the writing. A Stream is a chunked response the producer keeps
// feeding (Server-Sent Events); it never blocks: bytes are queued on the loop, and a reader that
// falls too far behind is disconnected. Both are cheap, copyable/shared handles; thread-safe.
// Answers to a connection that has gone away are dropped.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "http/message.hpp"

namespace greenfleet::http {

namespace detail {
struct Mailbox;
}

struct StreamOptions {
  // Sent when nothing else was written for this long (0 = never): keeps proxies and clients
  // from timing the stream out.
  std::chrono::milliseconds heartbeat{0};
  std::string heartbeat_data;
};

class Stream {
 public:
  Stream(std::shared_ptr<detail::Mailbox> mailbox, std::uint64_t connection);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Queues `data` as one chunk. False once the stream has ended (client gone, dropped as too
  // slow, server stopping): the producer should stop.
  bool send(std::string data);
  // Ends the response (terminating chunk) and closes the connection.
  void close();
  bool closed() const;
  // Runs once when the stream ends for any reason, on the loop thread (at once, on the calling
  // thread, when it has already ended). Must not block.
  void onClose(std::function<void()> callback);

  // Loop side: marks the stream ended and runs the callback.
  void markClosed();

 private:
  std::shared_ptr<detail::Mailbox> mailbox_;
  const std::uint64_t connection_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  std::function<void()> on_close_;
};

// Takes a socket over after its head was read (websocket upgrades): the loop forgets the
// descriptor and hands it, with any bytes it had already read past the request, to the callback,
// which owns it from then on. Runs on the loop thread; must return quickly.
using TakeOver = std::function<void(int fd, std::string pending)>;

class Exchange {
 public:
  Exchange(std::shared_ptr<detail::Mailbox> mailbox, std::uint64_t connection);

  void respond(Response response) const;
  // Answers after `delay` without holding any thread meanwhile (the emulator's latency).
  void respondAfter(std::chrono::milliseconds delay, Response response) const;
  // Closes the connection with a TCP reset after `delay`, answering nothing.
  void reset(std::chrono::milliseconds delay = std::chrono::milliseconds(0)) const;
  // Sends `head` (status and headers; its body is ignored) with chunked encoding and returns the
  // stream to feed. The connection closes when the stream ends.
  std::shared_ptr<Stream> stream(Response head, StreamOptions options = {}) const;
  void takeOver(TakeOver callback) const;

 private:
  std::shared_ptr<detail::Mailbox> mailbox_;
  std::uint64_t connection_;
};

}  // namespace greenfleet::http
