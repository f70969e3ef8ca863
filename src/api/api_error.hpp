#pragma once
// ApiError: an expected failure of an API request, thrown by handlers and turned into
// {"error":{"code","message","field"}} with its HTTP status by the dispatcher — the one place
// error kinds map to statuses.

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfleet::api {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message,
           std::optional<std::string> field = std::nullopt)
      : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::optional<std::string>& field() const { return field_; }
  // Extra response headers (Allow, WWW-Authenticate, Retry-After).
  std::vector<std::pair<std::string, std::string>> headers;

  static ApiError badRequest(std::string code, std::string message,
                             std::optional<std::string> field = std::nullopt) {
    return ApiError(400, std::move(code), std::move(message), std::move(field));
  }
  static ApiError unprocessable(std::string message, std::string field) {
    return ApiError(422, "invalid_value", std::move(message), std::move(field));
  }
  static ApiError notFound(std::string message) {
    return ApiError(404, "not_found", std::move(message));
  }
  // 429 with Retry-After in whole seconds, rounded up, at least 1.
  static ApiError tooManyRequests(std::string code, std::string message,
                                  std::chrono::nanoseconds retry_after) {
    ApiError e(429, std::move(code), std::move(message));
    const auto s = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
    e.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, s)));
    return e;
  }

 private:
  int status_;
  std::string code_;
  std::optional<std::string> field_;
};

}  // namespace greenfleet::api
