#include "fleet/outcome_kind.hpp"

#include <array>

namespace greenfleet::fleet {

namespace {

constexpr std::array<std::string_view, kOutcomeKindCount> kNames{
    "ok",
    "rateLimited",
    "unauthorized",
    "forbidden",
    "notFound",
    "quotaExceeded",
    "badRequest",
    "serverError",
    "timeout",
    "transportError",
    "malformedBody",
    "unexpectedStatus",
    "addressRefused",
};

}  // namespace

std::string_view outcomeKindName(OutcomeKind kind) {
  return kNames.at(static_cast<std::size_t>(kind));
}

std::optional<OutcomeKind> parseOutcomeKind(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<OutcomeKind>(i);
  }
  return std::nullopt;
}

bool isOutage(OutcomeKind kind) {
  switch (kind) {
    case OutcomeKind::serverError:
    case OutcomeKind::timeout:
    case OutcomeKind::transportError:
    case OutcomeKind::malformedBody:
    case OutcomeKind::unexpectedStatus:
    case OutcomeKind::addressRefused:  // the path to the upstream is closed: back off like one
      return true;
    default:
      return false;
  }
}

bool isAuthRejection(OutcomeKind kind) {
  return kind == OutcomeKind::unauthorized || kind == OutcomeKind::forbidden;
}

}  // namespace greenfleet::fleet
