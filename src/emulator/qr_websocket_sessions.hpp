#pragma once
// QrWebsocketSessions: the scanqrcode websockets. The HTTP front hands over the socket of an
// upgrade request (its head already read); a session answers the handshake itself, then pushes a
// qrCode frame per rotation until a scan (accountData), the timeout, a client close or the
// server's stop. Sessions are few, so each runs on its own thread; this object owns those threads
// and joins them. start() from any thread; joinAll() once, from the owner, after `stopping` is set.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emulator/emulator_options.hpp"

namespace greenfleet::emulator {

struct EmulatorContext;

class QrWebsocketSessions {
 public:
  QrWebsocketSessions() = default;
  ~QrWebsocketSessions();
  QrWebsocketSessions(const QrWebsocketSessions&) = delete;
  QrWebsocketSessions& operator=(const QrWebsocketSessions&) = delete;

  // Owns `fd` from now on. After `delay` (injected latency) answers the handshake for `key`
  // (Sec-WebSocket-Key) and serves instance `id` on a new thread.
  void start(EmulatorContext& ctx, std::int64_t id, int fd, std::string key, Millis delay);
  // Waits for every session; they end within ~50 ms of ctx.stopping being set.
  void joinAll();

 private:
  struct Session {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mutex_;
  std::vector<Session> sessions_;
};

}  // namespace greenfleet::emulator
