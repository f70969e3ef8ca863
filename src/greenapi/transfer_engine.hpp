#pragma once
// TransferEngine: the event-driven Green API transport. Owns one libcurl multi handle per I/O
// thread, each driven by its own loop (epoll + curl_multi_socket_action): thousands of GETs in
// flight on a few threads, connections kept alive and reused per host, HTTP/2 multiplexing over
// TLS where the upstream offers it, a shared DNS cache, connect and total timeouts per request,
// a cap on transfers in flight (engine-wide) and on connections per host. Extra submissions wait
// in the engine's queue, never in a thread.
//
// submit() is thread-safe and never blocks on the network; called from a completion (on an I/O
// thread) it queues on that thread's loop without a lock or a wake-up, and the request starts
// when the current round of completions is done. Each request ends exactly once in its
// completion, called on an I/O thread with a RawReply value: the outcome is classified by
// classifyTransfer() (the one mapping from HTTP status, body and transport error to CallOutcome)
// and its message never contains the token. Completions must be cheap: they run on the loop.
// Destruction stops the loops; transfers still in flight end as transportError "engine stopped".
//
// Outbound safety: a request whose apiUrl host is outside options.allowedHosts ends as
// addressRefused before any DNS query; every socket is checked against the policy after DNS,
// before connect (CURLOPT_OPENSOCKETFUNCTION), so no name can lead a request to an internal
// address. http/https only, no redirects, no proxy from the environment (it would hide the
// address from that check).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "greenapi/call_outcome.hpp"
#include "greenapi/upstream_host_policy.hpp"

namespace greenfleet::greenapi {

struct TransferOptions {
  std::chrono::milliseconds connectTimeout{5000};
  // Whole request, connect to last body byte; Green API's qr could take up to 60 s before
  // release 5.44.32 (#559).
  std::chrono::milliseconds requestTimeout{30000};
  std::size_t maxBodyBytes = 1024 * 1024;  // larger bodies are malformedBody; reading stops there
  std::size_t maxInFlight = 4096;          // transfers handed to libcurl at once, all loops
  std::size_t maxConnectionsPerHost = 64;  // CURLMOPT_MAX_HOST_CONNECTIONS
  // Idle connections older than this are not reused (below common server keep-alive timeouts;
  // libcurl counts whole seconds).
  std::chrono::milliseconds idleTimeout{4000};
  std::size_t ioThreads = 1;
  std::string userAgent = "greenfleet";
  UpstreamHostPolicy allowedHosts;  // upstream.allowed_hosts; default: Green API's own hosts
};

struct InstanceCredentials {
  std::string apiUrl;  // e.g. https://api.green-api.com or http://127.0.0.1:9090
  std::int64_t idInstance = 0;
  std::string apiTokenInstance;
};

// A raw exchange: outcome plus the body (bounded by maxBodyBytes).
struct RawReply {
  CallOutcome outcome;
  std::string body;
};

// What a finished transfer looked like on the wire, before classification.
struct TransferFacts {
  int httpStatus = 0;            // 0 when no response status line arrived
  bool timedOut = false;         // connect or total timeout
  bool transportFailed = false;  // any other transport error (refused, reset, TLS, bad URL)
  bool truncated = false;        // body exceeded the cap
  std::string transportError;    // our classified text of a transport failure or timeout
};

// The outcome of a transfer (its latency left at zero): ok for 2xx, the Green API error classes
// by status, malformedBody for an oversized 2xx body, timeout, transport error. The message says
// what happened in our words ("upstream answered 500 Internal Server Error"); it never carries
// upstream body text (it lands in lastError, which read keys see), except the fixed Green API
// phrases of a 400 the scheduler reads state from. Scrubbed of `token` and of anything
// token-shaped all the same.
CallOutcome classifyTransfer(const TransferFacts& facts, std::string_view body,
                             std::string_view token, std::size_t max_body);

class TransferEngine {
 public:
  using Completion = std::function<void(RawReply&&)>;
  struct Request {
    InstanceCredentials credentials;
    std::string method;  // Green API's spelling, e.g. "getStateInstance"
    Completion done;
    std::string postBody;  // non-empty: a POST with this JSON body (getAuthorizationCode)
    // The Partner API: {credentials.apiUrl}/partner/{method}/{credentials.apiTokenInstance}
    // instead of /waInstance…; built, like every URL, from the target the host policy accepted.
    bool partner = false;
    std::size_t maxBodyBytes = 0;  // 0: options().maxBodyBytes
  };

  explicit TransferEngine(TransferOptions options = {});
  ~TransferEngine();
  TransferEngine(const TransferEngine&) = delete;
  TransferEngine& operator=(const TransferEngine&) = delete;

  void submit(Request request);
  void submit(std::vector<Request>& batch);  // moves every request out of `batch`

  const TransferOptions& options() const { return options_; }
  // Transfers submitted and not completed yet (queued or on the wire).
  std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // Sockets libcurl holds open now; with nothing in flight, the idle keep-alive connections.
  std::size_t openConnections() const;

 private:
  class Loop;
  TransferOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<std::size_t> next_loop_{0};
  std::atomic<std::size_t> pending_{0};
};

}  // namespace greenfleet::greenapi
