#pragma once
// RawSocket: a plain TCP client socket for tests about the wire itself that an HTTP client
// library would hide or refuse: send half a request head, trickle bytes, hold a connection idle,
// pipeline requests, keep a connection alive after a body — and then see what the server did
// (answered, closed, reset; the status line as sent). Loopback only. Not thread-safe; one owner.

#include <chrono>
#include <string>
#include <string_view>

#include <Poco/Net/NameValueCollection.h>

namespace greenfleet::testing {

struct RawResponse {
  std::string status_line;  // "HTTP/1.1 429 Too Many Requests"
  int status = 0;
  Poco::Net::NameValueCollection headers;
  std::string body;
};

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
  // "METHOD path HTTP/1.1" with Host, plus Content-Type (JSON) and Content-Length when `body` is
  // not empty. Throws when the connection is gone.
  void sendRequest(const std::string& method, const std::string& path,
                   const std::string& body = {});
  // The next response, parsed (Content-Length bodies). Throws when the connection closes or
  // `timeout` passes before it is complete.
  RawResponse readResponse(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // True once the server has closed (FIN or RST) this connection; reads and drops any answer.
  bool closedByPeer(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  bool closed_ = false;
  std::string pending_;
};

}  // namespace greenfleet::testing
