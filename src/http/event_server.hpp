#pragma once
// EventServer: the event-driven HTTP/1.1 front of `serve` and `emulate`. One loop thread
// multiplexes every connection of every listener with epoll; an open connection costs a buffer,
// not a thread. Heads are parsed by Poco (HTTPRequest::read) once complete; a request reaches the
// Handler only when its head and body are in, within the deadlines below. Handlers run on a
// bounded worker pool (or inline on the loop when admit() says they never block) and answer
// through an Exchange; the loop writes every byte, so a slow reader or an event stream parks no
// thread. start()/stop() from one owner thread; stats() from any thread.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/exchange.hpp"
#include "http/message.hpp"

namespace greenfleet::http {

struct Listener {
  std::string name;  // "admin", "public": for logs and routing
  std::string host = "127.0.0.1";
  int port = 0;  // 0: pick a free port (see EventServer::port)
};

struct ServerOptions {
  std::vector<Listener> listeners;
  std::size_t workers = 8;
  std::size_t max_queued = 1024;  // handler tasks waiting for a worker; beyond: 503
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_ip = 256;
  std::chrono::milliseconds header_timeout{10000};  // whole head, from its first byte
  std::chrono::milliseconds body_timeout{30000};    // whole body, from the end of the head
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds send_timeout{60000};    // a reader that takes nothing for this long
  std::size_t max_head_bytes = 16 * 1024;           // larger heads: 431
  std::size_t max_body_bytes = 1 << 20;             // larger bodies: 413
  std::size_t max_buffered_output = 8 << 20;        // per stream; beyond: the reader is dropped
  int backlog = 4096;
  // Bodies that answer the server's own errors (413, 431, 503 ...): JSON in the API's shape.
  std::string (*error_body)(int status, std::string_view code, std::string_view message) = nullptr;
};

// What a handler decides from the head alone, on the loop thread, before any body byte is read.
struct Admission {
  enum class Kind { worker, inline_loop, answer };
  Kind kind = Kind::worker;
  // For answer: sent at once (an error, or a reply known from the head alone); the connection
  // closes if a body was announced, since it is not read.
  Response answer;

  static Admission onWorker() { return {}; }
  // handle() runs on the loop thread: only for handlers that never block.
  static Admission inLoop() { return {Kind::inline_loop, {}}; }
  static Admission answered(Response response) { return {Kind::answer, std::move(response)}; }
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on the loop thread with the head only (request.body is empty). Must not block. May
  // leave what it learnt in request.context for handle().
  virtual Admission admit(Request& request) = 0;
  // Called with the complete request; answers through `exchange`, now or later.
  virtual void handle(Request request, Exchange exchange) = 0;
};

struct ServerStats {
  std::size_t connections = 0;
  std::size_t streams = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;    // over max_connections or max_connections_per_ip
  std::uint64_t timed_out = 0;  // head, body, idle or send deadline passed
  std::uint64_t requests = 0;
};

class EventServer {
 public:
  EventServer(ServerOptions options, Handler& handler);
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Binds every listener (throws on failure) and starts the loop and the workers.
  void start();
  // Stops accepting, lets queued handlers finish, writes what they answered, closes the rest.
  void stop();
  int port(std::size_t listener = 0) const;
  ServerStats stats() const;

 private:
  class Loop;
  ServerOptions options_;
  Handler& handler_;
  std::unique_ptr<Loop> loop_;
};

}  // namespace greenfleet::http
