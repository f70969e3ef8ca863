#pragma once
// CannedHttpListener: a loopback TCP listener a test owns, on 127.0.0.1 and (when the host has
// IPv6) ::1 at the same port. It counts every connection it accepts and answers each request
// with one fixed HTTP response, then closes. Lets a test prove that no connection reached an
// address (accepts() == 0), or what an upstream answering junk looks like. Its thread runs
// until destruction; accepts() is thread-safe.

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace greenfleet::testing {

class CannedHttpListener {
 public:
  explicit CannedHttpListener(std::string response);
  ~CannedHttpListener();
  CannedHttpListener(const CannedHttpListener&) = delete;
  CannedHttpListener& operator=(const CannedHttpListener&) = delete;

  int port() const { return port_; }
  int accepts() const { return accepts_.load(); }
  // "HTTP/1.1 {status} {reason}" with `body` as application/json and Connection: close.
  static std::string response(int status, const std::string& reason, const std::string& body);

 private:
  void run();
  std::string response_;
  std::vector<int> fds_;
  int port_ = 0;
  std::atomic<int> accepts_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace greenfleet::testing
