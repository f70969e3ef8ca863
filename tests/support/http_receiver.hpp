#pragma once
// HttpReceiver: a loopback HTTP server that records every request it gets (path and body) and
// answers them all with one settable status, for tests of what greenfleet sends out (alerts).
// Thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace greenfleet::testing {

struct ReceivedRequest {
  std::string method;
  std::string path;
  std::string content_type;
  std::string body;
  int answered = 0;  // the status it was answered with
};

class HttpReceiver {
 public:
  HttpReceiver();
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path) const;
  // Every later request is answered with this status (e.g. 503 to play a failing receiver).
  void answerWith(int status) { status_ = status; }
  std::vector<ReceivedRequest> requests() const;

 private:
  struct Shared {
    std::mutex mutex;
    std::vector<ReceivedRequest> requests;
  };
  std::shared_ptr<Shared> shared_;
  std::atomic<int> status_{200};
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  int port_ = 0;
};

}  // namespace greenfleet::testing
