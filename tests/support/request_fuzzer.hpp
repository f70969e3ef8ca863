#pragma once
// RequestFuzzer: builds valid admin API requests from the route table and documented bodies
// (src/api/routes.cpp, docs/API.md) and mutates them — methods, paths (ids out of range,
// unicode, %00, "..", very long), query strings (repeated, bad numbers), headers (Content-Type
// and Accept-Encoding variants, huge or duplicate headers, If-None-Match), JSON bodies (wrong
// types, deep nesting, huge numbers, duplicate keys, truncation, invalid UTF-8, arrays for
// objects) and sizes. Deterministic for a seed. Every apiUrl it writes is a loopback address or
// one validation refuses, so no mutation can send the server's poller off this machine.
// exchangeRaw() sends one request on its own loopback connection and reads the answer whole;
// answerProblem() says what is wrong with an answer by the API's error contract. Not
// thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace greenfleet::testing {

struct FuzzKeys {
  std::string admin;    // admin API key
  std::string read;     // read API key
  std::string webhook;  // webhooks.token
};

struct FuzzRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool chunked = false;  // body sent with Transfer-Encoding: chunked
  std::string route;     // the route pattern it was built from
  std::string mutation;  // what was changed, for the failure report

  std::string wire() const;  // the bytes on the wire
  // One line for a failure report (target and body cut short).
  std::string describe() const;
};

struct FuzzAnswer {
  std::string transport_error;  // non-empty: no complete answer (reset, close, timeout)
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // decoded (gzip inflated)
  bool streaming = false;                      // an event stream, left after its head
};

class RequestFuzzer {
 public:
  // `ids`: registered instance ids the requests should often name.
  RequestFuzzer(std::uint64_t seed, FuzzKeys keys, std::vector<std::int64_t> ids, int port);

  FuzzRequest next();

  struct Route;  // one row of the route table (request_fuzzer.cpp)

 private:
  std::string pathFor(const Route& route, std::string& mutation);
  std::string queryFor(const Route& route, std::string& mutation);
  std::string bodyFor(const Route& route, std::string& mutation);
  void addHeaders(const Route& route, FuzzRequest& request);

  std::string idText();
  std::string badText();
  std::string number();
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

  std::mt19937_64 rng_;
  FuzzKeys keys_;
  std::vector<std::int64_t> ids_;
  int port_;
};

// Sends `request` on a fresh connection to 127.0.0.1:port and reads one answer.
FuzzAnswer exchangeRaw(int port, const FuzzRequest& request, int timeout_ms = 15000);
// What breaks the API's contract in `answer`, or nullopt: a 2xx/3xx, or a JSON
// {"error":{"code","message","field"}} with a code docs/API.md lists for its 4xx/503 status
// (/readyz may answer 503 {"status":"not ready"}); never another 5xx or a missing answer.
std::optional<std::string> answerProblem(const FuzzRequest& request, const FuzzAnswer& answer);

}  // namespace greenfleet::testing
