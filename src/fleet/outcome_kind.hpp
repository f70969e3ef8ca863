#pragma once
// OutcomeKind: how one upstream call ended, classified for the domain. The client (greenapi/)
// classifies its transfers into this type directly, so fleet/ stays free of the client.

#include <cstdint>
#include <optional>
#include <string_view>

namespace greenfleet::fleet {

enum class OutcomeKind : std::uint8_t {
  ok,
  rateLimited,    // 429
  unauthorized,   // 401: wrong token, or still initializing (issue #306)
  forbidden,      // 403: wrong idInstance
  notFound,       // 404: wrong verb/path (our bug)
  quotaExceeded,  // 466: Developer-plan monthly quota
  badRequest,     // 400: Green API uses it for "starting"/"not authorized" too (issue #571)
  serverError,    // 5xx
  timeout,
  transportError,
  malformedBody,     // 2xx we cannot read
  unexpectedStatus,  // any other HTTP status
  addressRefused,    // upstream.allowed_hosts refused the host or its address; nothing was sent
};

inline constexpr std::size_t kOutcomeKindCount = 13;

std::string_view outcomeKindName(OutcomeKind kind);
std::optional<OutcomeKind> parseOutcomeKind(std::string_view name);

// Failures that say the upstream (or the path to it) is not working: they count toward
// `unreachable` and toward a host's circuit breaker. 4xx answers are answers, not outages.
bool isOutage(OutcomeKind kind);
// 401/403: counted toward `credentials_rejected` after the grace period.
bool isAuthRejection(OutcomeKind kind);

}  // namespace greenfleet::fleet
