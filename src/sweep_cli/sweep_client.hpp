#pragma once
// SweepClient: the sweep CLI's HTTP client for a running `greenfleet serve` —
//   POST /api/v1/sweeps (admin key) → SweepRun, GET /api/v1/sweeps/{id} (read key) → SweepRun,
//   GET /api/v1/report[?tag=] (read key) → CachedReport.
// Every call is bounded by the caller's deadline (connect, send and each read get the time that
// is left), so a refused connection fails at once and a hung server within the deadline. Any
// failure is a SweepFailure whose message is safe to print: it never contains the key.
// Owns its key; one session per call; not thread-safe.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "base/clock.hpp"
#include "sweep/report.hpp"
#include "sweep/sweep_run.hpp"

namespace greenfleet::sweep_cli {

// The check could not be done (transport, HTTP error, malformed answer, deadline); → UNKNOWN.
class SweepFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The deadline passed before an answer came.
class SweepTimeout : public SweepFailure {
 public:
  using SweepFailure::SweepFailure;
};

struct CachedReport {
  base::WallTime generated_at{};
  sweep::Report report;
};

class SweepClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // `url` is http://host[:port][/prefix]; std::invalid_argument when it is not (https is not
  // supported: the sweep runs next to the server or through a tunnel).
  SweepClient(const std::string& url, std::string key);

  sweep::SweepRun start(const sweep::SweepFilter& filter, Deadline deadline) const;
  sweep::SweepRun get(std::int64_t id, Deadline deadline) const;
  CachedReport cachedReport(const std::optional<std::string>& tag, Deadline deadline) const;
  const std::string& url() const { return url_; }

  // One request with the key (JSON body when not empty): any status is an Answer; transport
  // failures and the deadline are SweepFailure/SweepTimeout. Also used by `greenfleet instances`.
  struct Answer {
    int status = 0;
    std::string body;
  };
  Answer send(const std::string& method, const std::string& path, const std::string& body,
              Deadline deadline) const;
  // "code: message" of an API error body (or the start of the body).
  static std::string errorText(const std::string& body);

 private:
  // Raises the SweepFailure that describes a non-2xx answer.
  [[noreturn]] void fail(const std::string& what, const Answer& answer) const;

  std::string url_;
  std::string host_;
  std::uint16_t port_ = 80;
  std::string prefix_;  // path before /api/v1, without a trailing slash
  std::string key_;
};

}  // namespace greenfleet::sweep_cli
