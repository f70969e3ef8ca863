#include <doctest/doctest.h>

#include "fleet/attention.hpp"
#include "fleet/instance_state.hpp"
#include "fleet/outcome_kind.hpp"
#include "fleet/qr_kind.hpp"

using namespace greenfleet::fleet;

TEST_CASE("Known stateInstance values classify to their kind and keep their text") {
  for (const char* raw : {"notAuthorized", "authorized", "blocked", "starting", "sleepMode",
                          "yellowCard", "suspended"}) {
    const auto s = InstanceState::fromRaw(raw);
    CHECK(s.raw() == raw);
    CHECK(s.name() == raw);
    CHECK(stateKindName(s.kind()) == raw);
  }
  CHECK(InstanceState::fromRaw("authorized").kind() == StateKind::authorized);
  CHECK(InstanceState::fromRaw("yellowCard").kind() == StateKind::yellowCard);
}

TEST_CASE("An unknown stateInstance string is kept verbatim as kind other") {
  const auto s = InstanceState::fromRaw("pendingCode");
  CHECK(s.kind() == StateKind::other);
  CHECK(s.raw() == "pendingCode");
  CHECK(s.name() == "pendingCode");
  SUBCASE("case matters: a different spelling is a different value") {
    CHECK(InstanceState::fromRaw("Authorized").kind() == StateKind::other);
    CHECK(InstanceState::fromRaw("Authorized").raw() == "Authorized");
  }
}

TEST_CASE("A null getStateInstance body means initializing and a never-read state is unknown") {
  const auto s = InstanceState::fromUpstream(std::nullopt);
  CHECK(s.kind() == StateKind::initializing);
  CHECK(s.name() == "initializing");
  const InstanceState never;
  CHECK(never.kind() == StateKind::unknown);
  CHECK(never.raw().empty());
  CHECK(never.name() == "unknown");
  CHECK(InstanceState::fromRaw("").kind() == StateKind::unknown);
}

TEST_CASE("Attention names are the JSON spelling and parse back") {
  for (std::size_t i = 0; i < kAttentionCount; ++i) {
    const auto a = static_cast<Attention>(i);
    const auto parsed = parseAttention(attentionName(a));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == a);
  }
  CHECK(attentionName(Attention::credentialsRejected) == "credentials_rejected");
  CHECK(attentionName(Attention::needsScan) == "needs_scan");
  CHECK(attentionName(Attention::stuckStarting) == "stuck_starting");
  CHECK_FALSE(parseAttention("needsScan").has_value());
}

TEST_CASE("Attention severity follows the documented order, most severe first") {
  CHECK(isWorse(Attention::credentialsRejected, Attention::blocked));
  CHECK(isWorse(Attention::blocked, Attention::needsScan));
  CHECK(isWorse(Attention::needsScan, Attention::suspended));
  CHECK(isWorse(Attention::suspended, Attention::stuckStarting));
  CHECK(isWorse(Attention::stuckStarting, Attention::unreachable));
  CHECK(isWorse(Attention::unreachable, Attention::stale));
  CHECK(isWorse(Attention::stale, Attention::none));
  CHECK(severity(Attention::none) == 0);
}

TEST_CASE("Outcome kind names parse back and outages are the transport-level failures") {
  for (std::size_t i = 0; i < kOutcomeKindCount; ++i) {
    const auto k = static_cast<OutcomeKind>(i);
    CHECK(parseOutcomeKind(outcomeKindName(k)) == k);
  }
  CHECK(isOutage(OutcomeKind::timeout));
  CHECK(isOutage(OutcomeKind::serverError));
  CHECK(isOutage(OutcomeKind::transportError));
  CHECK(isOutage(OutcomeKind::malformedBody));
  CHECK(isOutage(OutcomeKind::addressRefused));  // backs off and counts like one
  CHECK_FALSE(isOutage(OutcomeKind::rateLimited));
  CHECK_FALSE(isOutage(OutcomeKind::unauthorized));
  CHECK(isAuthRejection(OutcomeKind::forbidden));
}

TEST_CASE("QR types classify, including the unconfirmed passkey spellings") {
  CHECK(classifyQrType("qrCode") == QrKind::qrCode);
  CHECK(classifyQrType("alreadyLogged") == QrKind::alreadyLogged);
  CHECK(classifyQrType("error") == QrKind::error);
  CHECK(classifyQrType("passkeyRequired") == QrKind::passkeyRequired);
  CHECK(classifyQrType("PassKeyRequire") == QrKind::passkeyRequired);
  CHECK(classifyQrType("somethingNew") == QrKind::other);
}
