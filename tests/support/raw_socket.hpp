#pragma once
// RawSocket: a plain TCP client socket for tests that must misbehave on purpose — send half a
// request head, trickle bytes, hold a connection idle, pipeline requests — and then see what the
// server did (answered, closed, reset). Loopback only. Not thread-safe; one owner.

#include <chrono>
#include <string>
#include <string_view>

namespace greenfleet::testing {

class RawSocket {
 public:
  // Connects to 127.0.0.1:port, from `source` (another 127.x.y.z address) when given. Throws on
  // failure.
  explicit RawSocket(int port, const std::string& source = "");
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // False when the peer has closed or reset the connection.
  bool send(std::string_view bytes);
  // Whatever arrives within `timeout` until `until` is seen (or the peer closes).
  std::string receive(std::chrono::milliseconds timeout, std::string_view until = "\r\n\r\n");
  // Reads one whole HTTP response with a Content-Length body (empty on timeout or close).
  std::string receiveResponse(std::chrono::milliseconds timeout);
  // True once the server has closed (FIN or RST) this connection; reads and drops any answer.
  bool closedByPeer(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace greenfleet::testing
