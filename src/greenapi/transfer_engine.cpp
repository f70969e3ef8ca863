#include "greenapi/transfer_engine.hpp"

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "base/log.hpp"
#include "greenapi/partner_reply.hpp"
#include "greenapi/wire_format.hpp"

namespace greenfleet::greenapi {

namespace {

const base::Log kLog{"greenapi"};
using SteadyClock = std::chrono::steady_clock;

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

// The DNS cache shared by every loop's handles; libcurl asks us to lock it.
struct SharedDns {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  SharedDns() {
    share = curl_share_init();
    if (share == nullptr) throw std::runtime_error("curl_share_init failed");
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &SharedDns::lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &SharedDns::unlock);
    curl_share_setopt(share, CURLSHOPT_USERDATA, this);
  }
  ~SharedDns() { curl_share_cleanup(share); }
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<SharedDns*>(self)->locks.at(static_cast<std::size_t>(data)).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<SharedDns*>(self)->locks.at(static_cast<std::size_t>(data)).unlock();
  }
};

// Fixed texts of the Green API 400s (green-api.md, "common errors"); the scheduler reads a state
// from the first three. Any other 400 body is not shown.
constexpr std::array<std::string_view, 7> kKnown400Texts{
    "instance in starting process try later",
    "instance is starting or not authorized",
    "instance account not authorized",
    "Instance account is expired",
    "Instance is deleted",
    "Validation failed",
    "bad request data",
};

std::string_view reasonPhrase(int status) {
  static constexpr std::pair<int, std::string_view> kReasons[] = {
      {400, "Bad Request"},       {401, "Unauthorized"},        {403, "Forbidden"},
      {404, "Not Found"},         {405, "Method Not Allowed"},  {408, "Request Timeout"},
      {429, "Too Many Requests"}, {466, "quota exceeded"},      {500, "Internal Server Error"},
      {502, "Bad Gateway"},       {503, "Service Unavailable"}, {504, "Gateway Timeout"},
  };
  for (const auto& [code, reason] : kReasons) {
    if (code == status) return reason;
  }
  return {};
}

std::string statusMessage(int status, std::string_view body) {
  if (status == 400) {
    const std::string text = errorTextOf(body);
    for (const auto known : kKnown400Texts) {
      if (text.find(known) != std::string::npos) {
        return fmt::format("upstream answered 400: {}", known);
      }
    }
    return "upstream answered 400: body not shown";
  }
  const auto reason = reasonPhrase(status);
  return reason.empty() ? fmt::format("upstream answered {}", status)
                        : fmt::format("upstream answered {} {}", status, reason);
}

std::optional<IpAddress> addressOf(const curl_sockaddr& a) {
  // libcurl's curl_sockaddr ends in storage large enough for the family's sockaddr.
  if (a.family == AF_INET && a.addrlen >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, &a.addr, sizeof in);
    return IpAddress::v4(ntohl(in.sin_addr.s_addr));
  }
  if (a.family == AF_INET6 && a.addrlen >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &a.addr, sizeof in6);
    IpAddress::Bytes bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    return IpAddress::v6(bytes);
  }
  return std::nullopt;
}

std::string durationText(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

// Our words for a transport failure: libcurl's own texts name addresses and ports, which would
// turn lastError into a port scanner's report.
std::string transportFailureText(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return "could not resolve the host";
    case CURLE_COULDNT_CONNECT:
      return "connection refused or host unreachable";
    case CURLE_SSL_CONNECT_ERROR:
      return "TLS handshake failed";
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS certificate not trusted";
    case CURLE_GOT_NOTHING:
      return "connection closed before an answer";
    case CURLE_SEND_ERROR:
      return "connection failed while sending";
    case CURLE_RECV_ERROR:
      return "connection failed while receiving";
    case CURLE_PARTIAL_FILE:
      return "answer cut short";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return "malformed HTTP answer";
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return "apiUrl not usable";
    default:
      return curl_easy_strerror(code);  // a fixed text per code
  }
}

}  // namespace

CallOutcome classifyTransfer(const TransferFacts& facts, std::string_view body,
                             std::string_view token, std::size_t max_body) {
  CallOutcome out;
  std::string message;
  if (facts.timedOut) {
    out.kind = OutcomeKind::timeout;
    message = facts.transportError;
  } else if (facts.transportFailed) {
    out.kind = OutcomeKind::transportError;
    message = facts.transportError;
  } else {
    out.httpStatus = facts.httpStatus;
    out.kind = classifyStatus(facts.httpStatus);
    if (facts.truncated) {
      if (out.kind == OutcomeKind::ok) out.kind = OutcomeKind::malformedBody;
      message = fmt::format("upstream answered {} with a body larger than {} bytes",
                            facts.httpStatus, max_body);
    } else if (out.kind != OutcomeKind::ok) {
      message = statusMessage(facts.httpStatus, body);
    }
  }
  out.message = scrubSecrets(message, token);
  return out;
}

// One I/O thread: a multi handle driven through epoll, its pool of easy handles, and the queue of
// submissions the thread has not picked up yet.
class TransferEngine::Loop {
 public:
  Loop(const TransferOptions& options, CURLSH* dns, std::size_t cap,
       std::atomic<std::size_t>& pending)
      : options_(options), dns_(dns), cap_(cap), pending_(pending) {
    multi_ = curl_multi_init();
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (multi_ == nullptr || epoll_fd_ < 0 || wake_fd_ < 0) {
      cleanup();
      throw std::runtime_error("cannot create the upstream event loop");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Loop::onSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Loop::onTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(options_.maxConnectionsPerHost));
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(cap_));
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    // GETs carry libcurl's own headers only: every custom header is formatted byte by byte per
    // request (libcurl 7.88's printf), and Green API answers JSON whatever Accept says.
    json_headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    thread_ = std::thread([this] { run(); });
  }

  ~Loop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake();
    if (thread_.joinable()) thread_.join();
    cleanup();
  }

  // On this loop's own thread (a completion issuing the next request): straight into the local
  // queue, started when the current round of completions is done; no lock, no wake-up.
  bool submitFromLoop(std::vector<Request>& batch) {
    if (tl_current != this) return false;
    for (auto& r : batch) waiting_.push_back(std::move(r));
    return true;
  }

  void submit(std::vector<Request>& batch) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      was_empty = incoming_.empty();
      for (auto& r : batch) incoming_.push_back(std::move(r));
    }
    if (was_empty) wake();
  }

  std::size_t openSockets() const { return open_sockets_.load(std::memory_order_relaxed); }

 private:
  // An apiUrl the host policy accepted, parsed once per loop: a fleet has few distinct apiUrls
  // and each request would otherwise parse and normalise its own.
  struct Target {
    UpstreamUrl url;
    std::string host;  // as libcurl's URL API takes it: an IPv6 literal in brackets
    std::string port;  // "" for the scheme's default
  };

  struct Transfer {
    CURL* easy = nullptr;
    // The request's URL in parts (CURLOPT_CURLU): scheme, host and port are set when the target
    // changes, the path per request, so libcurl neither parses nor normalises a URL string.
    CURLU* where = nullptr;
    const Target* where_target = nullptr;  // whose scheme, host and port `where` holds
    Loop* loop = nullptr;
    std::string token;
    std::string path;  // reused: the request's path (apiUrl's own path first), written per request
    std::string body;
    std::size_t max_body = 0;
    std::string post_body;  // kept alive while libcurl sends it
    bool truncated = false;
    int sends = 0;
    bool retry_refused = false;
    SteadyClock::time_point first_send{};
    std::shared_ptr<const Target> target;  // the apiUrl the policy accepted
    std::string refused;                   // why the policy refused a resolved address, if it did
    bool opened = false;                   // a socket to some address of the host was opened
    Completion done;
  };

  void wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
  }

  void run() {
    tl_current = this;
    std::array<epoll_event, 256> events{};
    while (true) {
      int timeout = -1;
      if (timer_) {
        const auto left =
            std::chrono::ceil<std::chrono::milliseconds>(*timer_ - SteadyClock::now()).count();
        timeout = static_cast<int>(std::max<long long>(0, std::min<long long>(left, 60000)));
      }
      const int n =
          ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout);
      bool woken = false;
      for (int i = 0; i < n; ++i) {
        const auto& ev = events.at(static_cast<std::size_t>(i));
        if (ev.data.fd == wake_fd_) {
          std::uint64_t count = 0;
          [[maybe_unused]] const auto r = ::read(wake_fd_, &count, sizeof count);
          woken = true;
          continue;
        }
        if (!fdState(ev.data.fd).wanted) {
          unregister(ev.data.fd);  // an idle kept-alive connection stirred: libcurl checks it
          continue;                // itself before reusing it
        }
        int flags = 0;
        if ((ev.events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) != 0) flags |= CURL_CSELECT_IN;
        if ((ev.events & EPOLLOUT) != 0) flags |= CURL_CSELECT_OUT;
        if ((ev.events & EPOLLERR) != 0) flags |= CURL_CSELECT_ERR;
        int running = 0;
        curl_multi_socket_action(multi_, ev.data.fd, flags, &running);
      }
      if (timer_ && SteadyClock::now() >= *timer_) {
        timer_.reset();
        int running = 0;
        curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      if (woken) {
        bool stop = false;
        {
          std::lock_guard lock(mutex_);
          stop = stopping_;
          while (!incoming_.empty()) {
            waiting_.push_back(std::move(incoming_.front()));
            incoming_.pop_front();
          }
        }
        if (stop) return;
      }
      collectFinished();
      startWaiting();
    }
  }

  void startWaiting() {
    while (active_ < cap_ && !waiting_.empty()) {
      Request r = std::move(waiting_.front());
      waiting_.pop_front();
      start(std::move(r));
    }
  }

  Transfer* acquire() {
    if (!free_.empty()) {
      Transfer* t = free_.back();
      free_.pop_back();
      return t;
    }
    auto owned = std::make_unique<Transfer>();
    Transfer* t = owned.get();
    t->loop = this;
    t->easy = curl_easy_init();
    t->where = curl_url();
    if (t->easy == nullptr || t->where == nullptr) {
      curl_easy_cleanup(t->easy);
      curl_url_cleanup(t->where);
      return nullptr;
    }
    all_.push_back(std::move(owned));
    CURL* e = t->easy;
    curl_easy_setopt(e, CURLOPT_CURLU, t->where);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Loop::onWrite);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &Loop::onPrereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Loop::onOpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Loop::onCloseSocket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options_.connectTimeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.requestTimeout.count()));
    const auto idle_s = std::max<long long>(
        1, std::chrono::ceil<std::chrono::seconds>(options_.idleTimeout).count());
    curl_easy_setopt(e, CURLOPT_MAXAGE_CONN, static_cast<long>(idle_s));
    curl_easy_setopt(e, CURLOPT_USERAGENT, options_.userAgent.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");     // "" = no proxy, whatever http_proxy says
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");  // and no_proxy is not read from the environment
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_SHARE, dns_);
    return t;
  }

  // The accepted target of an apiUrl, or why the policy refuses it; both remembered.
  using TargetResult = base::Result<std::shared_ptr<const Target>, std::string>;
  TargetResult targetOf(const std::string& api_url) {
    if (const auto it = targets_.find(api_url); it != targets_.end()) return it->second;
    auto parsed = UpstreamUrl::parse(api_url);
    const auto refusal = parsed ? options_.allowedHosts.checkUrl(parsed.value())
                                : std::optional<std::string>("apiUrl " + parsed.error());
    TargetResult result = base::Unexpected<std::string>(refusal.value_or(""));
    if (!refusal) {
      const UpstreamUrl& url = parsed.value();
      const bool v6 = url.address && !url.address->isV4();
      result = std::make_shared<const Target>(
          Target{url, v6 ? "[" + url.host + "]" : url.host,
                 url.port ? std::to_string(*url.port) : std::string()});
    }
    // Bounded: a fleet with more distinct apiUrls than this only parses again.
    if (targets_.size() >= kMaxCachedTargets) targets_.clear();
    targets_.emplace(api_url, result);
    return result;
  }

  void start(Request r) {
    const auto& c = r.credentials;
    // Refused here, a request sends nothing, not even a DNS query.
    auto target = targetOf(c.apiUrl);
    if (!target) {
      finishEarly(std::move(r.done), target.error(), OutcomeKind::addressRefused);
      return;
    }
    Transfer* t = acquire();
    if (t == nullptr) {
      finishEarly(std::move(r.done), "cannot create a transfer");
      return;
    }
    // The normalised URL in parts: libcurl connects to exactly the host the policy judged.
    const Target& where = *target.value();
    if (r.partner) {
      t->path = buildPartnerUrl(where.url.path, r.method, c.apiTokenInstance);
    } else {
      writeMethodUrl(t->path, where.url.path, c.idInstance, r.method, c.apiTokenInstance);
    }
    if (!setWhere(*t, where)) {
      Completion done = std::move(r.done);
      free_.push_back(t);
      finishEarly(std::move(done), "apiUrl not usable");
      return;
    }
    t->target = std::move(target.value());
    t->refused.clear();
    t->opened = false;
    t->token = c.apiTokenInstance;
    t->max_body = r.maxBodyBytes != 0 ? r.maxBodyBytes : options_.maxBodyBytes;
    t->body.clear();
    t->truncated = false;
    t->sends = 0;
    t->retry_refused = false;
    t->done = std::move(r.done);
    // Handles are pooled: every transfer sets its verb and headers afresh.
    if (r.postBody.empty()) {
      curl_easy_setopt(t->easy, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, nullptr);
    } else {
      t->post_body = std::move(r.postBody);
      curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->post_body.size()));
      curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->post_body.c_str());
      curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, json_headers_);
    }
    // Waiting for a multiplexed connection only pays off over TLS, where HTTP/2 is negotiated.
    curl_easy_setopt(t->easy, CURLOPT_PIPEWAIT, where.url.isHttps() ? 1L : 0L);
    if (curl_multi_add_handle(multi_, t->easy) != CURLM_OK) {
      Completion done = std::move(t->done);
      free_.push_back(t);
      finishEarly(std::move(done), "cannot start the transfer");
      return;
    }
    ++active_;
  }

  // The URL handle of `t` pointed at `where`, with t.path.
  static bool setWhere(Transfer& t, const Target& where) {
    CURLU* u = t.where;
    if (t.where_target != &where) {
      t.where_target = nullptr;
      if (curl_url_set(u, CURLUPART_SCHEME, where.url.scheme.c_str(), 0) != CURLUE_OK ||
          curl_url_set(u, CURLUPART_HOST, where.host.c_str(), 0) != CURLUE_OK ||
          curl_url_set(u, CURLUPART_PORT, where.port.empty() ? nullptr : where.port.c_str(), 0) !=
              CURLUE_OK) {
        return false;
      }
      t.where_target = &where;  // t.target keeps `where` alive until the next one is set
    }
    return curl_url_set(u, CURLUPART_PATH, t.path.c_str(), 0) == CURLUE_OK;
  }

  void finishEarly(Completion done, std::string_view why,
                   OutcomeKind kind = OutcomeKind::transportError) {
    RawReply reply;
    reply.outcome.kind = kind;
    reply.outcome.message = std::string(why);
    deliver(done, std::move(reply));
  }

  void deliver(Completion& done, RawReply&& reply) {
    pending_.fetch_sub(1, std::memory_order_relaxed);
    try {
      if (done) done(std::move(reply));
    } catch (const std::exception& e) {
      kLog.error("event=completion_threw error=\"{}\"", e.what());
    }
  }

  void collectFinished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      const CURLcode code = msg->data.result;
      Transfer* t = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &t);
      RawReply reply = finish(*t, code);
      curl_multi_remove_handle(multi_, e);
      --active_;
      Completion done = std::move(t->done);
      t->token.clear();
      t->path.clear();
      free_.push_back(t);
      deliver(done, std::move(reply));
    }
  }

  RawReply finish(Transfer& t, CURLcode code) {
    TransferFacts facts;
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    RawReply reply;
    // Refused only when no address was allowed; otherwise the failure is the allowed one's.
    if (code != CURLE_OK && !t.refused.empty() && !t.opened) {
      reply.outcome.kind = OutcomeKind::addressRefused;
      reply.outcome.message = t.refused;
      return reply;
    }
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.truncated)) {
      facts.httpStatus = static_cast<int>(status);
      facts.truncated = t.truncated;
    } else if (code == CURLE_OPERATION_TIMEDOUT) {
      facts.timedOut = true;
      curl_off_t connected_us = 0;
      curl_easy_getinfo(t.easy, CURLINFO_CONNECT_TIME_T, &connected_us);
      facts.transportError =
          connected_us > 0
              ? fmt::format("timed out after {} waiting for the answer",
                            durationText(options_.requestTimeout))
              : fmt::format(
                    "timed out after {} connecting",
                    durationText(std::min(options_.connectTimeout, options_.requestTimeout)));
    } else {
      facts.transportFailed = true;
      facts.transportError =
          t.retry_refused ? std::string(
                                "connection closed before an answer (not retried within the same "
                                "second)")
                          : transportFailureText(code);
    }
    reply.outcome = classifyTransfer(facts, t.body, t.token, t.max_body);
    curl_off_t total_us = 0;
    curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &total_us);
    reply.outcome.latency = std::chrono::microseconds(total_us);
    if (!t.truncated) reply.body = std::move(t.body);
    return reply;
  }

  static size_t onWrite(char* data, size_t size, size_t count, void* self) {
    auto* t = static_cast<Transfer*>(self);
    const size_t n = size * count;
    if (t->body.size() + n > t->max_body) {
      t->truncated = true;
      return 0;  // stops reading: the cap bounds memory, not just the answer
    }
    t->body.append(data, n);
    return n;
  }

  // libcurl re-sends a request once by itself when a reused connection dies before any answer.
  // Green API counts every arrival: a second send is allowed only a full second after the first.
  static int onPrereq(void* self, char*, char*, int, int) {
    auto* t = static_cast<Transfer*>(self);
    const auto now = SteadyClock::now();
    if (t->sends++ == 0) {
      t->first_send = now;
      return CURL_PREREQFUNC_OK;
    }
    if (now - t->first_send >= std::chrono::seconds(1)) return CURL_PREREQFUNC_OK;
    t->retry_refused = true;
    return CURL_PREREQFUNC_ABORT;
  }

  // After DNS, before connect: the one place that sees the address a request would reach.
  static curl_socket_t onOpenSocket(void* self, curlsocktype purpose, curl_sockaddr* address) {
    auto* t = static_cast<Transfer*>(self);
    const auto ip = addressOf(*address);
    if (purpose != CURLSOCKTYPE_IPCXN || !ip || !t->target) {
      t->refused = "connection refused: not an IP connection";
      return CURL_SOCKET_BAD;
    }
    if (auto refusal = t->loop->options_.allowedHosts.checkAddress(t->target->url, *ip)) {
      kLog.warn("event=upstream_address_refused host={} reason=\"{}\"", t->target->url.host,
                *refusal);
      t->refused = std::move(*refusal);
      return CURL_SOCKET_BAD;
    }
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) return CURL_SOCKET_BAD;
    t->opened = true;
    t->loop->open_sockets_.fetch_add(1, std::memory_order_relaxed);
    t->loop->fdState(fd) = FdState{.ours = true};
    return fd;
  }

  static int onCloseSocket(void* self, curl_socket_t fd) {
    auto* loop = static_cast<Loop*>(self);
    loop->open_sockets_.fetch_sub(1, std::memory_order_relaxed);
    loop->fdState(fd) = FdState{};  // closing drops the epoll registration
    return ::close(fd);
  }

  // A kept-alive connection goes from one transfer to the next with the same interest (IN), so
  // its registration is kept between transfers: no epoll_ctl per request. CURL_POLL_REMOVE only
  // marks the socket unwanted; an event on an unwanted socket unregisters it then.
  static int onSocket(CURL*, curl_socket_t fd, int what, void* self, void*) {
    auto* loop = static_cast<Loop*>(self);
    FdState& st = loop->fdState(fd);
    if (what == CURL_POLL_REMOVE) {
      st.wanted = false;
      // Sockets libcurl closes without our callback (its resolver's pipe) are dropped at once.
      if (!st.ours) loop->unregister(fd);
      return 0;
    }
    st.wanted = true;
    std::uint32_t events = 0;
    if ((what & CURL_POLL_IN) != 0) events |= EPOLLIN;
    if ((what & CURL_POLL_OUT) != 0) events |= EPOLLOUT;
    if (st.registered && st.events == events) return 0;
    epoll_event ev{};
    ev.data.fd = fd;
    ev.events = events;
    if (st.registered) {
      if (::epoll_ctl(loop->epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT) {
        ::epoll_ctl(loop->epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
      }
    } else if (::epoll_ctl(loop->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
      ::epoll_ctl(loop->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    }
    st.registered = true;
    st.events = events;
    return 0;
  }

  void unregister(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    FdState& st = fdState(fd);
    st = FdState{.ours = st.ours};
  }

  struct FdState {
    bool ours = false;        // opened and closed through our callbacks
    bool registered = false;  // with epoll_fd_
    bool wanted = false;      // libcurl waits on it now
    std::uint32_t events = 0;
  };
  FdState& fdState(int fd) {
    const auto i = static_cast<std::size_t>(fd);
    if (i >= fds_.size()) fds_.resize(i + 1);
    return fds_[i];
  }

  static int onTimer(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<Loop*>(self);
    if (timeout_ms < 0) {
      loop->timer_.reset();
    } else {
      loop->timer_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  // After the thread has stopped: every transfer still queued or on the wire ends now.
  void cleanup() {
    if (multi_ != nullptr) {
      for (auto& owned : all_) {
        Transfer* t = owned.get();
        if (!t->done) continue;
        curl_multi_remove_handle(multi_, t->easy);
        Completion done = std::move(t->done);
        finishEarly(std::move(done), "engine stopped");
      }
      std::deque<Request> rest;
      {
        std::lock_guard lock(mutex_);
        rest.swap(incoming_);
      }
      for (auto& r : waiting_) finishEarly(std::move(r.done), "engine stopped");
      for (auto& r : rest) finishEarly(std::move(r.done), "engine stopped");
      waiting_.clear();
    }
    for (auto& owned : all_) {
      curl_easy_cleanup(owned->easy);
      curl_url_cleanup(owned->where);
    }
    all_.clear();
    if (multi_ != nullptr) curl_multi_cleanup(multi_);  // closes cached connections
    multi_ = nullptr;
    if (json_headers_ != nullptr) curl_slist_free_all(json_headers_);
    json_headers_ = nullptr;
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
  }

  static thread_local Loop* tl_current;  // the loop whose thread this is, if any

  const TransferOptions& options_;
  CURLSH* dns_;
  const std::size_t cap_;
  std::atomic<std::size_t>& pending_;
  CURLM* multi_ = nullptr;
  curl_slist* json_headers_ = nullptr;  // for POSTs with a JSON body
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<std::size_t> open_sockets_{0};

  std::mutex mutex_;  // guards incoming_ and stopping_
  std::deque<Request> incoming_;
  bool stopping_ = false;

  // Loop thread only.
  std::deque<Request> waiting_;  // submitted, beyond the cap
  std::vector<std::unique_ptr<Transfer>> all_;
  std::vector<Transfer*> free_;
  std::vector<FdState> fds_;  // by socket number
  static constexpr std::size_t kMaxCachedTargets = 4096;
  std::unordered_map<std::string, TargetResult> targets_;
  std::size_t active_ = 0;
  std::optional<SteadyClock::time_point> timer_;
  std::thread thread_;
};

thread_local TransferEngine::Loop* TransferEngine::Loop::tl_current = nullptr;

namespace {
SharedDns& sharedDns() {
  // One DNS cache for the process: every engine (the poller's, one-off clients) resolves a
  // Green API host once per libcurl cache period.
  initCurlOnce();
  static SharedDns dns;
  return dns;
}
}  // namespace

TransferEngine::TransferEngine(TransferOptions options) : options_(std::move(options)) {
  CURLSH* dns = sharedDns().share;
  const std::size_t loops = std::max<std::size_t>(1, options_.ioThreads);
  const std::size_t cap = std::max<std::size_t>(1, (options_.maxInFlight + loops - 1) / loops);
  for (std::size_t i = 0; i < loops; ++i) {
    loops_.push_back(std::make_unique<Loop>(options_, dns, cap, pending_));
  }
}

TransferEngine::~TransferEngine() { loops_.clear(); }

void TransferEngine::submit(Request request) {
  std::vector<Request> one;
  one.push_back(std::move(request));
  submit(one);
}

void TransferEngine::submit(std::vector<Request>& batch) {
  if (batch.empty()) return;
  pending_.fetch_add(batch.size(), std::memory_order_relaxed);
  for (auto& loop : loops_) {
    if (loop->submitFromLoop(batch)) {
      batch.clear();
      return;
    }
  }
  const std::size_t i = next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
  loops_[i]->submit(batch);
  batch.clear();
}

std::size_t TransferEngine::openConnections() const {
  std::size_t n = 0;
  for (const auto& l : loops_) n += l->openSockets();
  return n;
}

}  // namespace greenfleet::greenapi
