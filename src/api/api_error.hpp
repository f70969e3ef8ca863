#pragma once
// ApiError: an expected failure of an API request, thrown by handlers and turned into
// {"error":{"code","message","field"}} with its HTTP status by the dispatcher. Handlers say what
// kind of failure it is (ErrorKind); httpStatus() is the one place kinds map to statuses.

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfleet::api {

enum class ErrorKind {
  badRequest,            // the request is malformed
  unauthorized,          // no or a wrong credential
  forbidden,             // the credential may not do this
  notFound,              // no such route or resource
  methodNotAllowed,      // the route exists, not with this method
  conflict,              // the resource's current state forbids it
  unsupportedMediaType,  // a body that is not JSON
  unprocessable,         // well-formed, but a value is out of bounds
  tooManyRequests,       // a limit; Retry-After says when to come back
  internal,              // our bug
  upstreamFailed,        // Green API or a partner answered with an error
  unavailable,           // a part of the server is not running or is full
};

constexpr int httpStatus(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::badRequest:
      return 400;
    case ErrorKind::unauthorized:
      return 401;
    case ErrorKind::forbidden:
      return 403;
    case ErrorKind::notFound:
      return 404;
    case ErrorKind::methodNotAllowed:
      return 405;
    case ErrorKind::conflict:
      return 409;
    case ErrorKind::unsupportedMediaType:
      return 415;
    case ErrorKind::unprocessable:
      return 422;
    case ErrorKind::tooManyRequests:
      return 429;
    case ErrorKind::internal:
      return 500;
    case ErrorKind::upstreamFailed:
      return 502;
    case ErrorKind::unavailable:
      return 503;
  }
  return 500;
}

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorKind kind, std::string code, std::string message,
           std::optional<std::string> field = std::nullopt)
      : ApiError(httpStatus(kind), std::move(code), std::move(message), std::move(field)) {}
  // A status chosen elsewhere: the HTTP front's own refusals (413, 431, 503) rendered as JSON.
  ApiError(int status, std::string code, std::string message,
           std::optional<std::string> field = std::nullopt)
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        field_(std::move(field)) {}

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::optional<std::string>& field() const { return field_; }
  // Extra response headers (Allow, WWW-Authenticate, Retry-After).
  std::vector<std::pair<std::string, std::string>> headers;

  static ApiError badRequest(std::string code, std::string message,
                             std::optional<std::string> field = std::nullopt) {
    return ApiError(ErrorKind::badRequest, std::move(code), std::move(message), std::move(field));
  }
  static ApiError unprocessable(std::string message, std::string field) {
    return ApiError(ErrorKind::unprocessable, "invalid_value", std::move(message),
                    std::move(field));
  }
  static ApiError notFound(std::string message) {
    return ApiError(ErrorKind::notFound, "not_found", std::move(message));
  }
  // 503 "unavailable": a part of the server this request needs is not running.
  static ApiError unavailable(std::string message) {
    return ApiError(ErrorKind::unavailable, "unavailable", std::move(message));
  }
  // 429 with Retry-After in whole seconds, rounded up, at least 1.
  static ApiError tooManyRequests(std::string code, std::string message,
                                  std::chrono::nanoseconds retry_after) {
    ApiError e(ErrorKind::tooManyRequests, std::move(code), std::move(message));
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
