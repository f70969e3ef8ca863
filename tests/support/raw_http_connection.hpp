#pragma once
// RawHttpConnection: one TCP connection to a test server, written and read byte for byte, for
// tests about the wire itself (keep-alive after a body, pipelining, status lines) that an HTTP
// client library would hide. Plus helpers for process-level limits those tests need. Not
// thread-safe.

#include <sys/types.h>
#include <string>

#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/StreamSocket.h>

namespace greenfleet::testing {

struct RawResponse {
  std::string status_line;  // "HTTP/1.1 429 Too Many Requests"
  int status = 0;
  Poco::Net::NameValueCollection headers;
  std::string body;
};

class RawHttpConnection {
 public:
  // Connects to 127.0.0.1:port; reads give up after `timeout_s` seconds of silence.
  explicit RawHttpConnection(int port, int timeout_s = 30);

  void send(const std::string& bytes);
  // "METHOD path HTTP/1.1" with Host, and Content-Length when `body` is not empty.
  void sendRequest(const std::string& method, const std::string& path,
                   const std::string& body = {});
  // The next response (Content-Length bodies). Throws on a closed connection or a timeout.
  RawResponse readResponse();

 private:
  void fill();
  Poco::Net::StreamSocket socket_;
  std::string buffer_;
};

// Raises this process's soft RLIMIT_NOFILE to at least `count` (up to the hard limit); returns
// the soft limit now in force. Children started afterwards inherit it.
long raiseOpenFileLimit(long count);
// "Threads:" of /proc/<pid>/status; -1 when unreadable.
int threadCount(pid_t pid);

}  // namespace greenfleet::testing
