#pragma once
// SseClient: a Server-Sent Events reader for integration tests. Opens GET <path> (default
// /api/v1/events/stream) with a Bearer key and an optional Last-Event-ID over Poco's
// HTTPClientSession (which undoes the chunked encoding), then a reader thread splits the body into
// frames that next() hands out with a deadline. A non-200 answer is read whole instead (status(),
// body()). Closing (or destroying) shuts the socket down and joins the reader. next()/close() from
// one thread only.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace Poco::Net {
class HTTPClientSession;
}

namespace greenfleet::testing {

// One block of lines up to a blank line. An event has `event`/`data`; `: heartbeat` is a block of
// one comment; `retry: 2000` a block with only `retry`.
struct SseFrame {
  std::string id;
  std::string event;
  std::string data;                   // data lines joined with '\n'
  std::vector<std::string> comments;  // text after ':' (leading space removed)
  std::optional<long long> retry;

  bool isEvent() const { return !event.empty() || !data.empty(); }
  bool isComment(const std::string& text) const {
    return comments.size() == 1 && comments[0] == text && !isEvent();
  }
};

struct SseOptions {
  std::string path = "/api/v1/events/stream";
  std::string bearer;
  std::optional<std::string> last_event_id;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds connect_timeout{10000};  // until the response head is in
};

class SseClient {
 public:
  // Connects and reads the response head (throws on transport failure or timeout).
  SseClient(const std::string& host, int port, SseOptions options);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  // Response header (name case-insensitive); "" when absent.
  std::string header(const std::string& name) const;
  // The whole body of a non-200 answer.
  const std::string& body() const { return body_; }

  // The next frame, waiting up to `timeout`; nullopt on timeout or when the stream has ended.
  std::optional<SseFrame> next(std::chrono::milliseconds timeout);
  // The next frame that is an event (skipping comments and retry blocks).
  std::optional<SseFrame> nextEvent(std::chrono::milliseconds timeout);
  // True once the server has ended the stream (EOF or error) and every frame was taken.
  bool ended();
  // Waits up to `timeout` for the server to end the stream, discarding frames.
  bool waitForEnd(std::chrono::milliseconds timeout);
  void close();

 private:
  void readLoop();

  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  std::istream* in_ = nullptr;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string body_;

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<SseFrame> frames_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace greenfleet::testing
