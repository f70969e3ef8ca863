#include "emulator/qr_websocket_sessions.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/StreamSocketImpl.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/Net/WebSocketImpl.h>
#include <fmt/format.h>

#include "base/log.hpp"
#include "emulator/http_io.hpp"

namespace greenfleet::emulator {

namespace {

const base::Log kLog{"emulator"};

// Poco builds a WebSocket only from its own HTTP server or client; these reach the protected
// pieces needed to build one over a socket the event loop handed over.
struct AdoptedSocket : Poco::Net::StreamSocket {
  explicit AdoptedSocket(Poco::Net::SocketImpl* impl) : StreamSocket(impl) {}
};
struct Handshake : Poco::Net::WebSocket {
  using WebSocket::computeAccept;
};
// WebSocketImpl takes the bytes an HTTP session buffered past the head; the loop's were dropped
// (a client sends no frame before the 101), so an empty session stands in.
struct EmptySession : Poco::Net::HTTPSession {};

void sendAll(Poco::Net::StreamSocket& socket, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const int n = socket.sendBytes(data.data() + sent, static_cast<int>(data.size() - sent));
    if (n <= 0) throw Poco::Net::ConnectionResetException("websocket handshake");
    sent += static_cast<std::size_t>(n);
  }
}

Poco::JSON::Object::Ptr frame(const std::string& type, const std::string& message) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("type", type);
  o->set("message", message);
  return o;
}

// The frame an instance shows now (null: nothing new since the last); `close` says the session
// ends after it.
Poco::JSON::Object::Ptr nextFrame(EmulatedInstance& inst, base::SteadyTime now,
                                  std::optional<std::uint64_t>& sent_rotation, bool first,
                                  bool& close) {
  const std::string& s = inst.state();
  if (s == states::kNotAuthorized) {
    const auto rotation = inst.qrRotation(now);
    if (sent_rotation && *sent_rotation == rotation) return nullptr;
    sent_rotation = rotation;
    return inst.passkeyRequired ? frame("passkeyRequired", kPasskeyMessage)
                                : frame("qrCode", inst.qrPngBase64(now));
  }
  close = true;
  if (states::isLoggedIn(s)) {
    if (first) return frame("alreadyLogged", "instance account already authorized");
    // After a scan: account data at top level (docs/GREEN_API.md, Methods).
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    out->set("type", "accountData");
    out->set("wid", inst.wid());
    out->set("pushname", fmt::format("Emulated {}", inst.id()));
    out->set("webhookUrl", "");
    return out;
  }
  return frame("error", s == states::kStarting || s == states::kNew
                            ? "instance in starting process try later"
                            : fmt::format("instance is {}", s));
}

// Whether the client sent a close frame (or went away); never blocks.
bool clientClosed(Poco::Net::WebSocket& ws) {
  if (!ws.poll(Poco::Timespan(0), Poco::Net::Socket::SELECT_READ)) return false;
  char buf[512];
  int flags = 0;
  const int n = ws.receiveFrame(buf, sizeof buf, flags);
  return n <= 0 ||
         (flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) == Poco::Net::WebSocket::FRAME_OP_CLOSE;
}

// TCP_CORK holds what is written until it is released: the 101 answer and the first frame leave
// in one segment, as they can from Green API, and a client must take that frame from the bytes its
// handshake read already buffered (QrWebsocket once missed it there and showed no QR for 30 s).
void setCork(int fd, bool on) {
  const int value = on ? 1 : 0;
  ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
}

// Frames until the session ends; the same frames and timing Green API's scanqrcode has.
void serve(EmulatorContext& ctx, std::int64_t id, Poco::Net::WebSocket& ws) {
  auto send = [&](const Poco::JSON::Object::Ptr& out) {
    const std::string text = stringify(out);
    ws.sendFrame(text.data(), static_cast<int>(text.size()), Poco::Net::WebSocket::FRAME_TEXT);
  };
  const int fd = ws.impl()->sockfd();
  const auto deadline = ctx.registry.clock().steadyNow() + ctx.options.delays.wsTimeout;
  std::optional<std::uint64_t> sent_rotation;
  bool first = true;
  while (true) {
    Poco::JSON::Object::Ptr out;
    bool close = false;
    ctx.registry.with(id,
                      [&](EmulatedInstance& inst, base::SteadyTime now, std::vector<Transition>&) {
                        out = nextFrame(inst, now, sent_rotation, first, close);
                      });
    if (out) send(out);
    if (first) setCork(fd, false);  // the 101 and the first frame go out together
    first = false;
    if (close) break;
    if (ctx.registry.clock().steadyNow() >= deadline) {
      send(frame(ctx.options.wsTimeoutType, ctx.options.wsTimeoutType));
      break;
    }
    if (ctx.stopping.tryWait(50)) break;
    if (clientClosed(ws)) break;
  }
  ws.shutdown(Poco::Net::WebSocket::WS_NORMAL_CLOSE, "");
}

void run(EmulatorContext& ctx, std::int64_t id, int fd, const std::string& key, Millis delay) {
  // Owned from here: the socket closes the descriptor on every path.
  AdoptedSocket socket(new Poco::Net::StreamSocketImpl(fd));
  try {
    socket.setBlocking(true);  // the event loop kept it non-blocking
    if (delay.count() > 0 && ctx.stopping.tryWait(static_cast<long>(delay.count()))) return;
    setCork(fd, true);
    sendAll(socket, fmt::format("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                                Handshake::computeAccept(key)));
    EmptySession session;
    Poco::Net::WebSocket ws(AdoptedSocket(new Poco::Net::WebSocketImpl(
        static_cast<Poco::Net::StreamSocketImpl*>(socket.impl()), session, false)));
    serve(ctx, id, ws);
  } catch (const Poco::Exception& e) {
    kLog.debug("websocket id={} ended error={}", id, e.displayText());
  } catch (const std::exception& e) {
    kLog.error("websocket id={} failed error={}", id, e.what());
  }
}

}  // namespace

QrWebsocketSessions::~QrWebsocketSessions() { joinAll(); }

void QrWebsocketSessions::start(EmulatorContext& ctx, std::int64_t id, int fd, std::string key,
                                Millis delay) {
  std::lock_guard lock(mutex_);
  // Reap the sessions that ended, so a long-running emulator does not collect threads.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([&ctx, id, fd, key = std::move(key), delay, done] {
    run(ctx, id, fd, key, delay);
    done->store(true);
  });
  sessions_.push_back(Session{std::move(thread), std::move(done)});
}

void QrWebsocketSessions::joinAll() {
  std::vector<Session> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
  }
  for (auto& s : sessions) s.thread.join();
}

}  // namespace greenfleet::emulator
