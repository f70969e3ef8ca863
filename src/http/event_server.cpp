#include "http/event_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <optional>
#include <queue>
#include <system_error>
#include <unordered_map>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/String.h>
#include <Poco/Timestamp.h>
#include <fmt/format.h>

#include "base/log.hpp"
#include "http/mailbox.hpp"
#include "http/worker_pool.hpp"

namespace greenfleet::http {

namespace {

const base::Log kLog{"http"};
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

// Deadlines are checked this often; they are seconds long, so this is their precision.
constexpr auto kSweepInterval = std::chrono::milliseconds(100);
// After an early answer the unread rest of a request is read and dropped this long, so the
// client sees the answer instead of a reset caused by closing with unread data.
constexpr auto kLingerTime = std::chrono::milliseconds(2000);
constexpr std::size_t kReadChunk = 64 * 1024;
// Bytes of a pipelined next request buffered while one is being handled.
constexpr std::size_t kPipelineCap = 64 * 1024;
constexpr std::size_t kZeroCopyMin = 16 * 1024;
constexpr std::uint64_t kListenerTag = 1ULL << 63;
constexpr std::uint64_t kWakeTag = 1ULL << 62;

enum class Phase { idle, head, body, handling, delayed, streaming, closing, lingering };

struct Connection {
  int fd = -1;
  std::uint64_t id = 0;
  std::size_t listener = 0;
  std::string peer;
  Phase phase = Phase::idle;
  TimePoint deadline{};
  TimePoint last_progress{};
  std::string in;
  std::size_t scanned = 0;  // bytes of `in` already searched for the end of the head
  std::string out;
  std::size_t out_sent = 0;
  // A shared body queued after `out` and sent from where it lies (no copy); anything written
  // later first moves its unsent rest into `out` (see buffer()).
  std::shared_ptr<const std::string> tail;
  std::size_t tail_sent = 0;
  std::uint32_t interest = 0;
  bool peer_closed = false;
  bool in_process = false;  // process() is on the stack: answer() must not re-enter it
  // The request being read or handled.
  Request request;
  std::size_t body_expected = 0;
  Admission::Kind kind = Admission::Kind::worker;
  bool keep_alive = true;
  bool head_only = false;
  // Streaming.
  std::shared_ptr<Stream> stream;
  StreamOptions stream_options;
  TimePoint last_stream_write{};
  // A delayed answer (respondAfter / reset with a delay).
  std::optional<detail::Command> delayed;

  bool hasOutput() const { return out_sent < out.size() || tail != nullptr; }
  std::size_t pendingBytes() const {
    return out.size() - out_sent + (tail ? tail->size() - tail_sent : 0);
  }
  // The output buffer to append to, in order after everything queued so far.
  std::string& buffer() {
    if (tail) {
      out.append(*tail, tail_sent);
      tail.reset();
      tail_sent = 0;
    }
    return out;
  }
};

struct DelayedEntry {
  TimePoint due;
  std::uint64_t connection;
  bool operator>(const DelayedEntry& other) const { return due > other.due; }
};

// End of the head: the index just past the empty line, or npos. Lines may end in CRLF or LF.
std::size_t findHeadEnd(const std::string& in, std::size_t from) {
  std::size_t pos = from > 2 ? from - 2 : 0;
  while ((pos = in.find('\n', pos)) != std::string::npos) {
    if (pos + 1 < in.size() && in[pos + 1] == '\n') return pos + 2;
    if (pos + 2 < in.size() && in[pos + 1] == '\r' && in[pos + 2] == '\n') return pos + 3;
    ++pos;
  }
  return std::string::npos;
}

std::string peerAddress(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  }
  return buf;
}

// Header values come from handlers; a CR or LF in one would split the response.
void appendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (const char c : value) {
    if (c != '\r' && c != '\n') out.push_back(c);
  }
  out.append("\r\n");
}

std::string defaultErrorBody([[maybe_unused]] int status, std::string_view code,
                             std::string_view message) {
  return fmt::format(R"({{"error":{{"code":"{}","message":"{}","field":null}}}})", code, message);
}

}  // namespace

class EventServer::Loop {
 public:
  Loop(const ServerOptions& options, Handler& handler)
      : options_(options),
        handler_(handler),
        mailbox_(std::make_shared<detail::Mailbox>()),
        error_body_(options.error_body != nullptr ? options.error_body : &defaultErrorBody) {}

  ~Loop() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  void bind() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    for (std::size_t i = 0; i < options_.listeners.size(); ++i) {
      const auto& l = options_.listeners[i];
      Poco::Net::ServerSocket socket;
      socket.bind(Poco::Net::SocketAddress(l.host, static_cast<Poco::UInt16>(l.port)), true);
      socket.listen(options_.backlog);
      socket.setBlocking(false);
      ports_.push_back(socket.address().port());
      sockets_.push_back(socket);
      watch(socket.impl()->sockfd(), kListenerTag | i, EPOLLIN);
    }
    watch(mailbox_->wakeFd(), kWakeTag, EPOLLIN);
  }

  void start() {
    pool_ = std::make_unique<WorkerPool>(options_.workers, options_.max_queued);
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    stage_ = 1;  // stop accepting
    wake();
    pool_->stop();  // queued handlers run; their answers are posted
    stage_ = 2;     // write what was answered, then close everything
    wake();
    thread_.join();
  }

  int port(std::size_t i) const { return i < ports_.size() ? ports_[i] : 0; }

  ServerStats stats() const {
    ServerStats s;
    s.connections = connections_.load();
    s.streams = streams_.load();
    s.accepted = accepted_.load();
    s.refused = refused_.load();
    s.timed_out = timed_out_.load();
    s.requests = requests_.load();
    return s;
  }

 private:
  // --- the loop ------------------------------------------------------------------------------

  void run() {
    mailbox_->setLoopThread(std::this_thread::get_id());
    std::vector<epoll_event> events(256);
    auto next_sweep = SteadyClock::now() + kSweepInterval;
    std::optional<TimePoint> exit_by;
    while (true) {
      if (stage_ >= 1 && !sockets_.empty()) stopAccepting();
      if (stage_ >= 2) {
        drainMailbox();
        if (!exit_by) exit_by = SteadyClock::now() + std::chrono::seconds(1);
        if (!anyOutput() || SteadyClock::now() >= *exit_by) break;
      }
      auto now = SteadyClock::now();
      TimePoint wake_at = next_sweep;
      if (!delayed_.empty()) wake_at = std::min(wake_at, delayed_.top().due);
      // Rounded up: waking before the due time would only spin until it comes.
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake_at - now);
      const int timeout = static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 1000));
      const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                                 stage_ >= 2 ? std::min(timeout, 10) : timeout);
      if (n < 0 && errno != EINTR) {
        kLog.error("event=epoll_wait_failed error=\"{}\"", std::strerror(errno));
        break;
      }
      now_ = SteadyClock::now();
      for (int i = 0; i < std::max(n, 0); ++i) {
        const auto tag = events[static_cast<std::size_t>(i)].data.u64;
        const auto mask = events[static_cast<std::size_t>(i)].events;
        if (tag & kListenerTag) {
          acceptAll(static_cast<std::size_t>(tag & ~kListenerTag));
        } else if (tag & kWakeTag) {
          mailbox_->acknowledgeWake();
        } else {
          onEvent(static_cast<int>(tag), mask);
        }
        drainMailbox();
      }
      drainMailbox();
      now_ = SteadyClock::now();
      fireDelayed();
      if (now_ >= next_sweep) {
        sweep();
        next_sweep = now_ + kSweepInterval;
      }
    }
    mailbox_->close();
    for (auto& c : connections_by_fd_) {
      if (c) close(*c, false);
    }
    stopAccepting();
  }

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(mailbox_->wakeFd(), &one, sizeof one);
  }

  void watch(int fd, std::uint64_t tag, std::uint32_t mask) {
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      throw std::system_error(errno, std::generic_category(), "epoll_ctl");
    }
  }

  void stopAccepting() {
    for (auto& s : sockets_) {
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s.impl()->sockfd(), nullptr);
      s.close();
    }
    sockets_.clear();
  }

  bool anyOutput() const {
    return std::any_of(connections_by_fd_.begin(), connections_by_fd_.end(),
                       [](const auto& c) { return c && c->hasOutput(); });
  }

  Connection* find(std::uint64_t id) {
    const auto fd = static_cast<std::size_t>(id & 0xffffffffULL);
    if (fd >= connections_by_fd_.size()) return nullptr;
    Connection* c = connections_by_fd_[fd].get();
    return c != nullptr && c->id == id ? c : nullptr;
  }

  // --- accepting -----------------------------------------------------------------------------

  void acceptAll(std::size_t listener) {
    if (listener >= sockets_.size()) return;
    const int listen_fd = sockets_[listener].impl()->sockfd();
    while (true) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          kLog.warn("event=accept_failed error=\"{}\"", std::strerror(errno));
        }
        return;
      }
      std::string peer = peerAddress(ss);
      auto& per_ip = per_ip_[peer];
      if (connections_.load() >= options_.max_connections ||
          per_ip >= options_.max_connections_per_ip) {
        if (per_ip == 0) per_ip_.erase(peer);
        ++refused_;
        refuse(fd);
        continue;
      }
      ++per_ip;
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (static_cast<std::size_t>(fd) >= connections_by_fd_.size()) {
        connections_by_fd_.resize(static_cast<std::size_t>(fd) + 1024);
      }
      auto c = std::make_unique<Connection>();
      c->fd = fd;
      c->id = (++serial_ << 32) | static_cast<std::uint64_t>(fd);
      c->listener = listener;
      c->peer = std::move(peer);
      c->deadline = now_ + options_.idle_timeout;
      c->last_progress = now_;
      c->interest = EPOLLIN | EPOLLRDHUP;
      watch(fd, static_cast<std::uint64_t>(fd), c->interest);
      connections_by_fd_[static_cast<std::size_t>(fd)] = std::move(c);
      ++connections_;
      ++accepted_;
    }
  }

  void refuse(int fd) {
    const std::string body =
        error_body_(503, "too_many_connections", "too many connections; try again later");
    const std::string text = fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        "Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{}",
        body.size(), body);
    [[maybe_unused]] const auto n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    ::close(fd);
  }

  // --- reading -------------------------------------------------------------------------------

  void onEvent(int fd, std::uint32_t mask) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= connections_by_fd_.size()) return;
    Connection* c = connections_by_fd_[static_cast<std::size_t>(fd)].get();
    if (c == nullptr) return;
    if (mask & (EPOLLERR | EPOLLHUP)) {
      if (!(mask & EPOLLIN)) return close(*c, false);
    }
    if (mask & EPOLLOUT) {
      flush(*c);
      if (find(c->id) == nullptr) return;
    }
    if (mask & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readFrom(*c);
  }

  void readFrom(Connection& c) {
    const std::uint64_t id = c.id;
    char buf[kReadChunk];
    while (true) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (c.phase == Phase::streaming || c.phase == Phase::lingering) continue;  // dropped
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.size() > options_.max_head_bytes + options_.max_body_bytes + kPipelineCap) break;
        continue;
      }
      if (n == 0) {
        // What arrived before the FIN is still a request (clients may half-close after it).
        c.peer_closed = true;
        process(c);
        if (Connection* still = find(id)) onPeerClosed(*still);
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return close(c, false);
      break;
    }
    process(c);
    if (Connection* still = find(id)) updateInterest(*still);
  }

  void onPeerClosed(Connection& c) {
    // A client may half-close after its request and still read the answer; anywhere else the
    // connection has nothing more to give.
    if (c.phase == Phase::handling || c.phase == Phase::delayed ||
        (c.phase == Phase::closing && c.hasOutput())) {
      return updateInterest(c);
    }
    close(c, false);
  }

  void updateInterest(Connection& c) {
    std::uint32_t mask = EPOLLRDHUP;
    const bool reading =
        !c.peer_closed &&
        (c.phase == Phase::idle || c.phase == Phase::head || c.phase == Phase::body ||
         c.phase == Phase::streaming || c.phase == Phase::lingering ||
         ((c.phase == Phase::handling || c.phase == Phase::delayed || c.phase == Phase::closing) &&
          c.in.size() < kPipelineCap));
    if (reading) mask |= EPOLLIN;
    if (c.hasOutput()) mask |= EPOLLOUT;
    if (c.peer_closed) mask &= ~static_cast<std::uint32_t>(EPOLLRDHUP);
    if (mask == c.interest) return;
    c.interest = mask;
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = static_cast<std::uint64_t>(c.fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Parses and dispatches as much of `in` as the connection's phase allows.
  void process(Connection& c) {
    const std::uint64_t id = c.id;
    c.in_process = true;
    processInput(c);
    if (Connection* still = find(id)) still->in_process = false;
  }

  void processInput(Connection& c) {
    const std::uint64_t id = c.id;
    while (find(id) != nullptr) {
      if (c.phase == Phase::idle || c.phase == Phase::head) {
        if (c.in.empty()) return;
        if (c.phase == Phase::idle) {
          c.phase = Phase::head;
          c.deadline = now_ + options_.header_timeout;
          c.scanned = 0;
        }
        const std::size_t end = findHeadEnd(c.in, c.scanned);
        if (end == std::string::npos || end > options_.max_head_bytes) {
          c.scanned = c.in.size();
          if (c.in.size() > options_.max_head_bytes) {
            return fail(
                c, 431, "header_too_large",
                fmt::format("the request head is larger than {} bytes", options_.max_head_bytes));
          }
          return;
        }
        if (!readHead(c, end)) return;
        if (!admit(c)) continue;  // answered already; a kept-alive connection goes on
        if (c.body_expected == 0) return dispatch(c);
        c.phase = Phase::body;
        c.deadline = now_ + options_.body_timeout;
        if (Poco::icompare(c.request.header("Expect"), "100-continue") == 0 &&
            c.in.size() < c.body_expected) {
          c.buffer().append("HTTP/1.1 100 Continue\r\n\r\n");
          flush(c);
        }
        continue;
      }
      if (c.phase == Phase::body) {
        const std::size_t take = std::min(c.in.size(), c.body_expected - c.request.body.size());
        c.request.body.append(c.in, 0, take);
        c.in.erase(0, take);
        if (c.request.body.size() < c.body_expected) return;
        return dispatch(c);
      }
      return;  // handling, delayed, streaming, closing: the rest waits
    }
  }

  // Parses the head with Poco; false when the connection was answered with an error.
  bool readHead(Connection& c, std::size_t end) {
    Poco::Net::HTTPRequest head;
    try {
      Poco::MemoryInputStream stream(c.in.data(), end);
      head.read(stream);
    } catch (const Poco::Exception& e) {
      failUnreadableHead(c, e);
      return false;
    }
    c.in.erase(0, end);
    c.scanned = 0;
    ++requests_;
    Request r;
    r.method = head.getMethod();
    r.uri = head.getURI();
    r.version = head.getVersion();
    r.peer = c.peer;
    r.listener = c.listener;
    r.keep_alive = head.getKeepAlive();
    r.headers = head;  // an HTTPRequest is its header collection
    c.keep_alive = r.keep_alive;
    c.head_only = r.method == "HEAD";
    c.request = std::move(r);
    return readBodyLength(c, head);
  }

  // Answers a head Poco could not read: 431 when a limit was hit, 400 otherwise (the cold path).
  void failUnreadableHead(Connection& c, const Poco::Exception& e) {
    if (dynamic_cast<const Poco::Net::MessageException*>(&e) == nullptr) {
      return fail(c, 400, "malformed_request", "the request head could not be parsed");
    }
    const std::string what = e.message();
    const bool too_large =
        what.find("Too many") != std::string::npos || what.find("too long") != std::string::npos;
    fail(c, too_large ? 431 : 400, too_large ? "header_too_large" : "malformed_request",
         too_large ? "the request head has too many or too long fields"
                   : "the request head could not be parsed");
  }

  // Sets c.body_expected from the head's framing; false when the connection was answered with
  // an error.
  bool readBodyLength(Connection& c, const Poco::Net::HTTPRequest& head) {
    std::size_t lengths = 0;  // more than one Content-Length is refused, equal or not
    std::string length_value;
    for (const auto& [name, value] : head) {
      if (Poco::icompare(name, "Content-Length") == 0) {
        ++lengths;
        length_value = value;
      }
    }
    c.body_expected = 0;
    if (head.getChunkedTransferEncoding() || head.has("Transfer-Encoding")) {
      // Bodies here are small JSON documents with a known length; a chunked body would need a
      // second parser, so it is refused with the status that says why.
      fail(c, lengths > 0 ? 400 : 411, lengths > 0 ? "malformed_request" : "length_required",
           "send the body with Content-Length (chunked request bodies are not accepted)");
      return false;
    }
    if (lengths > 1) {
      fail(c, 400, "malformed_request", "conflicting Content-Length headers");
      return false;
    }
    if (lengths == 1) {
      const std::string& v = length_value;
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
        fail(c, 400, "malformed_request", "Content-Length is not a number");
        return false;
      }
      c.body_expected = static_cast<std::size_t>(std::stoull(v));
    }
    return true;
  }

  // Asks the handler about the head; false when it was answered from the head alone.
  bool admit(Connection& c) {
    Admission a;
    try {
      a = handler_.admit(c.request);
    } catch (const std::exception& e) {
      kLog.error("event=admit_failed error=\"{}\"", e.what());
      a = Admission::answered(errorResponse(500, "internal", "internal error; see the server log"));
    }
    if (a.kind == Admission::Kind::answer) {
      // An unread body would be parsed as the next request: answer and close instead of
      // waiting for bytes we do not want.
      const bool close_after = c.body_expected > 0;
      answer(c, a.answer, close_after);
      return false;
    }
    if (c.body_expected > options_.max_body_bytes) {
      fail(c, 413, "payload_too_large",
           fmt::format("request body is {} bytes; the limit is {}", c.body_expected,
                       options_.max_body_bytes));
      return false;
    }
    c.kind = a.kind;
    return true;
  }

  void dispatch(Connection& c) {
    c.phase = Phase::handling;
    Exchange exchange(mailbox_, c.id);
    if (c.kind == Admission::Kind::inline_loop) {
      callHandler(std::move(c.request), exchange);
      return;
    }
    auto task = [this, request = std::move(c.request), exchange]() mutable {
      callHandler(std::move(request), exchange);
    };
    if (!pool_->submit(std::move(task))) {
      Response busy = errorResponse(503, "overloaded", "the server is busy; try again shortly");
      busy.headers.emplace_back("Retry-After", "1");
      answer(c, busy, false);
    }
  }

  void callHandler(Request request, const Exchange& exchange) {
    try {
      handler_.handle(std::move(request), exchange);
    } catch (const std::exception& e) {
      kLog.error("event=handler_failed error=\"{}\"", e.what());
      exchange.respond(errorResponse(500, "internal", "internal error; see the server log"));
    }
  }

  Response errorResponse(int status, std::string_view code, std::string_view message) const {
    return Response::text(status, "application/json", error_body_(status, code, message));
  }

  // An error the server itself decides (before any handler): answered, then closed.
  void fail(Connection& c, int status, std::string_view code, const std::string& message) {
    c.head_only = false;
    answer(c, errorResponse(status, code, message), true);
  }

  // --- writing -------------------------------------------------------------------------------

  void appendHead(Connection& c, const Response& r, bool close_after, bool chunked,
                  std::size_t length) {
    std::string& out = c.buffer();
    fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", r.status,
                   r.reason.empty() ? reasonPhrase(r.status) : std::string_view(r.reason));
    appendHeader(out, "Date", httpDate());
    // Bodies are what their Content-Type says; a browser must not guess otherwise.
    out.append("X-Content-Type-Options: nosniff\r\n");
    if (!r.content_type.empty()) appendHeader(out, "Content-Type", r.content_type);
    for (const auto& [k, v] : r.headers) appendHeader(out, k, v);
    const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
    if (chunked) {
      out.append("Transfer-Encoding: chunked\r\n");
    } else if (!bodiless) {
      fmt::format_to(std::back_inserter(out), "Content-Length: {}\r\n", length);
    }
    if (close_after) {
      out.append("Connection: close\r\n");
    } else if (c.request.version == "HTTP/1.0") {
      out.append("Connection: keep-alive\r\n");
    }
    out.append("\r\n");
  }

  // Queues a complete answer; keeps the connection for the next request unless asked to close.
  void answer(Connection& c, const Response& r, bool close_after) {
    close_after = close_after || r.close || !c.keep_alive || c.peer_closed || stage_ >= 1;
    compactOutput(c);
    const std::string& payload = r.payload();
    appendHead(c, r, close_after, false, payload.size());
    const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
    if (!c.head_only && !bodiless) {
      // Large shared bodies are sent from where they lie; small ones are cheaper to copy.
      if (r.shared_body && payload.size() >= kZeroCopyMin) {
        c.tail = r.shared_body;
        c.tail_sent = 0;
      } else {
        c.buffer().append(payload);
      }
    }
    c.request = Request{};
    c.body_expected = 0;
    if (close_after) {
      c.phase = Phase::closing;
      c.deadline = now_ + options_.send_timeout;
    } else {
      c.phase = Phase::idle;
      c.deadline = now_ + options_.idle_timeout;
    }
    const std::uint64_t id = c.id;
    flush(c);
    Connection* still = find(id);
    if (still == nullptr) return;
    if (still->phase == Phase::idle && !still->in.empty() && !still->in_process) process(*still);
    if ((still = find(id)) != nullptr) updateInterest(*still);
  }

  void compactOutput(Connection& c) {
    if (c.out_sent > 0 && c.out_sent == c.out.size() && !c.tail) {
      c.out.clear();
      c.out_sent = 0;
    }
  }

  void flush(Connection& c) {
    while (c.hasOutput()) {
      iovec parts[2];
      int count = 0;
      if (c.out_sent < c.out.size()) {
        parts[count++] = {c.out.data() + c.out_sent, c.out.size() - c.out_sent};
      }
      if (c.tail) {
        parts[count++] = {const_cast<char*>(c.tail->data()) + c.tail_sent,
                          c.tail->size() - c.tail_sent};
      }
      msghdr message{};
      message.msg_iov = parts;
      message.msg_iovlen = static_cast<std::size_t>(count);
      const ssize_t n = ::sendmsg(c.fd, &message, MSG_NOSIGNAL);
      if (n > 0) {
        std::size_t sent = static_cast<std::size_t>(n);
        const std::size_t from_out = std::min(sent, c.out.size() - c.out_sent);
        c.out_sent += from_out;
        sent -= from_out;
        if (c.tail) {
          c.tail_sent += sent;
          if (c.tail_sent == c.tail->size()) {
            c.tail.reset();
            c.tail_sent = 0;
          }
        }
        c.last_progress = now_;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return close(c, false);
    }
    if (!c.hasOutput()) {
      c.out.clear();
      c.out_sent = 0;
      if (c.phase == Phase::closing) return linger(c);
    } else if (c.out_sent > (1 << 20) && c.out_sent == c.out.size()) {
      c.out.clear();
      c.out_sent = 0;
    } else if (c.out_sent > (1 << 20) && !c.tail) {
      c.out.erase(0, c.out_sent);
      c.out_sent = 0;
    }
    updateInterest(c);
  }

  // Everything is written: send FIN, drop what the client still sends for a moment, close.
  void linger(Connection& c) {
    if (c.peer_closed) return close(c, false);
    ::shutdown(c.fd, SHUT_WR);
    c.phase = Phase::lingering;
    c.deadline = now_ + kLingerTime;
    c.in.clear();
    updateInterest(c);
  }

  void close(Connection& c, bool reset) {
    const int fd = c.fd;
    if (reset) {
      const struct linger l { 1, 0 };  // close() then sends RST, not FIN
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    auto owned = std::move(connections_by_fd_[static_cast<std::size_t>(fd)]);
    release(*owned);
    ::close(fd);
  }

  // Forgets a connection (its descriptor stays open): counters, per-address slot, stream.
  void release(Connection& c) {
    --connections_;
    const auto it = per_ip_.find(c.peer);
    if (it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
    if (c.stream) {
      --streams_;
      c.stream->markClosed();
    }
  }

  // --- commands from handlers ----------------------------------------------------------------

  void drainMailbox() {
    while (true) {
      auto commands = mailbox_->takeAll();
      if (commands.empty()) return;
      for (auto& command : commands) apply(std::move(command));
    }
  }

  void apply(detail::Command command) {
    Connection* c = find(command.connection);
    if (c == nullptr) {
      if (command.stream) command.stream->markClosed();
      return;
    }
    using Kind = detail::Command::Kind;
    if ((command.kind == Kind::respond || command.kind == Kind::reset) &&
        command.delay.count() > 0 && c->phase == Phase::handling) {
      c->phase = Phase::delayed;
      const auto due = now_ + command.delay;
      command.delay = std::chrono::milliseconds(0);
      c->delayed = std::move(command);
      delayed_.push(DelayedEntry{due, c->id});
      updateInterest(*c);
      return;
    }
    switch (command.kind) {
      case Kind::respond:
        if (c->phase == Phase::handling || c->phase == Phase::delayed) {
          answer(*c, command.response, false);
        }
        return;
      case Kind::reset:
        return close(*c, true);
      case Kind::stream_open:
        return openStream(*c, std::move(command));
      case Kind::stream_data:
        return streamChunk(*c, command.data);
      case Kind::stream_end:
        if (c->phase == Phase::streaming) {
          c->buffer().append("0\r\n\r\n");
          c->phase = Phase::closing;
          c->deadline = now_ + options_.send_timeout;
          flush(*c);
        }
        return;
      case Kind::take_over:
        return takeOver(*c, std::move(command.take_over));
    }
  }

  void fireDelayed() {
    while (!delayed_.empty() && delayed_.top().due <= now_) {
      const auto entry = delayed_.top();
      delayed_.pop();
      Connection* c = find(entry.connection);
      if (c == nullptr || !c->delayed) continue;
      auto command = std::move(*c->delayed);
      c->delayed.reset();
      c->phase = Phase::handling;
      apply(std::move(command));
    }
  }

  void openStream(Connection& c, detail::Command command) {
    if (c.phase != Phase::handling) {
      command.stream->markClosed();
      return;
    }
    const bool head_only = c.head_only;
    compactOutput(c);
    appendHead(c, command.response, true, !head_only, 0);
    if (head_only) {
      command.stream->markClosed();
      c.phase = Phase::closing;
      c.deadline = now_ + options_.send_timeout;
      return flush(c);
    }
    c.phase = Phase::streaming;
    c.stream = std::move(command.stream);
    c.stream_options = std::move(command.stream_options);
    c.last_stream_write = now_;
    ++streams_;
    flush(c);
  }

  void streamChunk(Connection& c, const std::string& data) {
    if (c.phase != Phase::streaming || data.empty()) return;
    std::string& out = c.buffer();
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", data.size());
    out.append(data);
    out.append("\r\n");
    c.last_stream_write = now_;
    if (c.pendingBytes() > options_.max_buffered_output) {
      kLog.warn("event=slow_reader_dropped peer={} buffered={}", c.peer, c.pendingBytes());
      return close(c, false);
    }
    flush(c);
  }

  void takeOver(Connection& c, TakeOver callback) {
    const int fd = c.fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    auto owned = std::move(connections_by_fd_[static_cast<std::size_t>(fd)]);
    std::string pending = std::move(owned->in);
    release(*owned);
    try {
      callback(fd, std::move(pending));
    } catch (const std::exception& e) {
      kLog.error("event=take_over_failed error=\"{}\"", e.what());
    }
  }

  // --- deadlines -----------------------------------------------------------------------------

  void sweep() {
    for (auto& slot : connections_by_fd_) {
      if (!slot) continue;
      Connection& c = *slot;
      if (c.hasOutput() && now_ - c.last_progress > options_.send_timeout) {
        ++timed_out_;
        close(c, false);
        continue;
      }
      switch (c.phase) {
        case Phase::idle:
          if (!c.hasOutput() && now_ >= c.deadline) {
            ++timed_out_;
            close(c, false);
          }
          break;
        case Phase::head:
        case Phase::body:
          if (now_ >= c.deadline) {
            ++timed_out_;
            fail(c, 408, "request_timeout",
                 c.phase == Phase::head ? "the request head did not arrive in time"
                                        : "the request body did not arrive in time");
          }
          break;
        case Phase::lingering:
          if (now_ >= c.deadline) close(c, false);
          break;
        case Phase::streaming:
          if (c.stream_options.heartbeat.count() > 0 &&
              now_ - c.last_stream_write >= c.stream_options.heartbeat) {
            streamChunk(c, c.stream_options.heartbeat_data);
          }
          break;
        default:
          break;
      }
    }
  }

  const std::string& httpDate() {
    const auto second = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::system_clock::now().time_since_epoch());
    if (second != date_second_) {
      date_second_ = second;
      date_ = Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::HTTP_FORMAT);
    }
    return date_;
  }

  const ServerOptions& options_;
  Handler& handler_;
  std::shared_ptr<detail::Mailbox> mailbox_;
  std::string (*error_body_)(int, std::string_view, std::string_view);
  int epoll_fd_ = -1;
  std::vector<Poco::Net::ServerSocket> sockets_;
  std::vector<int> ports_;
  std::vector<std::unique_ptr<Connection>> connections_by_fd_;
  std::unordered_map<std::string, std::size_t> per_ip_;
  std::priority_queue<DelayedEntry, std::vector<DelayedEntry>, std::greater<>> delayed_;
  std::unique_ptr<WorkerPool> pool_;
  std::thread thread_;
  std::atomic<int> stage_{0};
  std::uint64_t serial_ = 0;
  TimePoint now_ = SteadyClock::now();
  std::chrono::seconds date_second_{0};
  std::string date_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::size_t> streams_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> timed_out_{0};
  std::atomic<std::uint64_t> requests_{0};
};

EventServer::EventServer(ServerOptions options, Handler& handler)
    : options_(std::move(options)), handler_(handler) {}

EventServer::~EventServer() { stop(); }

void EventServer::start() {
  if (loop_) return;
  auto loop = std::make_unique<Loop>(options_, handler_);
  loop->bind();
  loop->start();
  loop_ = std::move(loop);
}

void EventServer::stop() {
  if (loop_) loop_->stop();
}

int EventServer::port(std::size_t listener) const { return loop_ ? loop_->port(listener) : 0; }

ServerStats EventServer::stats() const { return loop_ ? loop_->stats() : ServerStats{}; }

}  // namespace greenfleet::http
