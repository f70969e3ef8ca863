#include <doctest/doctest.h>

#include <chrono>

#include "fleet/observation.hpp"

using namespace greenfleet::fleet;
using namespace greenfleet::base;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));
const AttentionRules kRules{};

Observation reading(SteadyTime at, std::optional<std::string> state,
                    ReadingSource source = ReadingSource::poll) {
  Observation o;
  o.at = at;
  o.state = InstanceState::fromUpstream(std::move(state));
  o.source = source;
  return o;
}

Observation failure(SteadyTime at, OutcomeKind kind) {
  Observation o;
  o.at = at;
  o.outcome = kind;
  o.error = "boom";
  return o;
}

InstanceStatus authorizedAt(SteadyTime t) {
  InstanceStatus s = InstanceStatus::registered(t - 1h);
  return applyObservation(s, reading(t, "authorized"), kRules).status;
}

}  // namespace

TEST_CASE("The first reading of a new instance is adopted at once with a transition") {
  const auto r =
      applyObservation(InstanceStatus::registered(kT0), reading(kT0 + 1s, "authorized"), kRules);
  REQUIRE(r.transition.has_value());
  CHECK(r.transition->from.kind() == StateKind::unknown);
  CHECK(r.transition->to.raw() == "authorized");
  CHECK(r.status.state.raw() == "authorized");
  CHECK(r.status.stateSince == kT0 + 1s);
  CHECK(r.status.lastOkAt == kT0 + 1s);
  CHECK_FALSE(r.confirmationNeeded);
}

TEST_CASE("A worse reading is held until a second reading confirms it") {
  const InstanceStatus s = authorizedAt(kT0);
  const auto first = applyObservation(s, reading(kT0 + 60s, "notAuthorized"), kRules);
  CHECK(first.confirmationNeeded);
  CHECK_FALSE(first.transition.has_value());
  CHECK(first.status.state.raw() == "authorized");                 // stored state unchanged
  CHECK(first.status.lastObservedState.raw() == "notAuthorized");  // raw reading visible
  CHECK(first.status.attention == Attention::none);

  SUBCASE("a second agreeing reading confirms it, dated from the first") {
    const auto second = applyObservation(first.status, reading(kT0 + 65s, "notAuthorized"), kRules);
    REQUIRE(second.transition.has_value());
    CHECK(second.transition->at == kT0 + 60s);
    CHECK(second.status.state.raw() == "notAuthorized");
    CHECK(second.status.stateSince == kT0 + 60s);
    CHECK(second.status.attention == Attention::needsScan);
    CHECK(second.attentionChanged);
    CHECK_FALSE(second.status.pending.has_value());
  }
  SUBCASE("a second reading of the old state dismisses it") {
    const auto second = applyObservation(first.status, reading(kT0 + 65s, "authorized"), kRules);
    CHECK_FALSE(second.transition.has_value());
    CHECK_FALSE(second.status.pending.has_value());
    CHECK(second.status.state.raw() == "authorized");
    CHECK(second.status.attention == Attention::none);
  }
  SUBCASE("a different worse reading restarts the confirmation") {
    const auto second = applyObservation(first.status, reading(kT0 + 65s, "blocked"), kRules);
    CHECK(second.confirmationNeeded);
    CHECK(second.status.state.raw() == "authorized");
    REQUIRE(second.status.pending.has_value());
    CHECK(second.status.pending->state.raw() == "blocked");
  }
}

TEST_CASE("A better reading is adopted at once") {
  InstanceStatus s = authorizedAt(kT0);
  s = applyObservation(s, reading(kT0 + 60s, "notAuthorized"), kRules).status;
  s = applyObservation(s, reading(kT0 + 65s, "notAuthorized"), kRules).status;
  REQUIRE(s.state.raw() == "notAuthorized");
  const auto r = applyObservation(s, reading(kT0 + 90s, "authorized"), kRules);
  CHECK_FALSE(r.confirmationNeeded);
  REQUIRE(r.transition.has_value());
  CHECK(r.status.attention == Attention::none);
}

TEST_CASE("A webhook reading also needs a confirming reading before an alarm") {
  const InstanceStatus s = authorizedAt(kT0);
  const auto r = applyObservation(s, reading(kT0 + 10s, "blocked", ReadingSource::webhook), kRules);
  CHECK(r.confirmationNeeded);
  const auto c = applyObservation(r.status, reading(kT0 + 15s, "blocked"), kRules);
  REQUIRE(c.transition.has_value());
  CHECK(c.transition->source == ReadingSource::poll);
  CHECK(c.status.attention == Attention::blocked);
}

TEST_CASE("An unknown state string is stored verbatim and never dropped") {
  const InstanceStatus s = authorizedAt(kT0);
  const auto r = applyObservation(s, reading(kT0 + 60s, "quantumEntangled"), kRules);
  CHECK(r.status.state.raw() == "quantumEntangled");
  CHECK(r.status.state.kind() == StateKind::other);
  CHECK(r.status.lastObservedState.raw() == "quantumEntangled");
  REQUIRE(r.transition.has_value());
  CHECK(r.transition->to.raw() == "quantumEntangled");
}

TEST_CASE("A 401 right after creation reads as initializing, not as a rejected token") {
  InstanceStatus s = InstanceStatus::registered(kT0);
  auto r = applyObservation(s, failure(kT0 + 5s, OutcomeKind::unauthorized), kRules);
  CHECK(r.status.state.kind() == StateKind::initializing);
  CHECK(r.status.attention == Attention::none);
  CHECK(r.status.firstAuthFailureAt == kT0 + 5s);
  for (auto t = kT0 + 20s; t < kT0 + 10min; t += 15s) {
    r = applyObservation(r.status, failure(t, OutcomeKind::unauthorized), kRules);
    CHECK(r.status.attention != Attention::credentialsRejected);
  }
  r = applyObservation(r.status, failure(kT0 + 10min + 1s, OutcomeKind::unauthorized), kRules);
  CHECK(r.status.attention == Attention::credentialsRejected);
  SUBCASE("a later real reading clears the auth streak") {
    const auto ok = applyObservation(r.status, reading(kT0 + 11min, "notAuthorized"), kRules);
    CHECK_FALSE(ok.status.firstAuthFailureAt.has_value());
    CHECK(ok.status.attention != Attention::credentialsRejected);
    CHECK(ok.status.lastObservedState.raw() == "notAuthorized");
  }
}

TEST_CASE("A 401 on an established instance keeps its state until the grace period passes") {
  InstanceStatus s = authorizedAt(kT0);
  auto r = applyObservation(s, failure(kT0 + 60s, OutcomeKind::unauthorized), kRules);
  CHECK(r.status.state.raw() == "authorized");
  r = applyObservation(r.status, failure(kT0 + 9min, OutcomeKind::forbidden), kRules);
  CHECK(r.status.attention != Attention::credentialsRejected);
  r = applyObservation(r.status, failure(kT0 + 10min, OutcomeKind::unauthorized), kRules);
  CHECK(r.status.attention == Attention::credentialsRejected);
}

TEST_CASE("Outages count up to unreachable and any answer resets the count") {
  InstanceStatus s = authorizedAt(kT0);
  for (int i = 1; i <= 5; ++i) {
    s = applyObservation(s, failure(kT0 + i * 1s, OutcomeKind::timeout), kRules).status;
  }
  CHECK(s.consecutiveFailures == 5);
  CHECK(s.attention == Attention::unreachable);
  CHECK(s.lastErrorKind == OutcomeKind::timeout);
  CHECK(s.lastError == "boom");
  SUBCASE("a 429 is an answer") {
    s = applyObservation(s, failure(kT0 + 10s, OutcomeKind::rateLimited), kRules).status;
    CHECK(s.consecutiveFailures == 0);
  }
  SUBCASE("a reading resets the count and the error") {
    s = applyObservation(s, reading(kT0 + 10s, "authorized"), kRules).status;
    CHECK(s.consecutiveFailures == 0);
    CHECK(s.attention == Attention::none);
    CHECK(s.lastError.empty());
  }
}

TEST_CASE(
    "A qrCode answer marks a notAuthorized instance as offering a QR and alreadyLogged clears it") {
  InstanceStatus s = InstanceStatus::registered(kT0);
  // Even the first reading of a worse state is confirmed by a second one.
  s = applyObservation(s, reading(kT0, "notAuthorized"), kRules).status;
  CHECK(s.attention == Attention::none);
  s = applyObservation(s, reading(kT0 + 500ms, "notAuthorized"), kRules).status;
  REQUIRE(s.attention == Attention::needsScan);
  Observation qr;
  qr.at = kT0 + 1s;
  qr.qr = QrKind::qrCode;
  auto r = applyObservation(s, qr, kRules);
  CHECK(r.status.qrOffered);  // already needs_scan: not worse, adopted
  qr.at = kT0 + 2s;
  qr.qr = QrKind::alreadyLogged;
  r = applyObservation(r.status, qr, kRules);
  CHECK_FALSE(r.status.qrOffered);
}

TEST_CASE("A webhook does not count as our own successful probe") {
  InstanceStatus s = authorizedAt(kT0);
  const auto before_ok = s.lastOkAt;
  s = applyObservation(s, reading(kT0 + 30s, "authorized", ReadingSource::webhook), kRules).status;
  CHECK(s.lastOkAt == before_ok);
  CHECK(s.lastReadingAt == kT0 + 30s);
}

TEST_CASE("A qrCode answer for an authorized instance needs confirming like a state") {
  const InstanceStatus s = authorizedAt(kT0);
  Observation qr;
  qr.at = kT0 + 1s;
  qr.qr = QrKind::qrCode;
  const auto first = applyObservation(s, qr, kRules);
  CHECK(first.confirmationNeeded);
  CHECK_FALSE(first.status.qrOffered);
  qr.at = kT0 + 2s;
  const auto second = applyObservation(first.status, qr, kRules);
  CHECK(second.status.qrOffered);
  CHECK(second.status.attention == Attention::needsScan);
}

namespace {
Observation qrAnswer(SteadyTime at, QrKind kind) {
  Observation o;
  o.at = at;
  o.qr = kind;
  return o;
}
}  // namespace

TEST_CASE("A passkeyRequired answer makes a notAuthorized instance passkey_required at once") {
  // notAuthorized, confirmed by a second reading.
  InstanceStatus s = authorizedAt(kT0 - 10s);
  s = applyObservation(s, reading(kT0 - 5s, "notAuthorized"), kRules).status;
  s = applyObservation(s, reading(kT0, "notAuthorized"), kRules).status;
  REQUIRE(s.attention == Attention::needsScan);
  const auto asked = applyObservation(s, qrAnswer(kT0 + 1s, QrKind::passkeyRequired), kRules);
  CHECK_FALSE(asked.confirmationNeeded);  // a direct QR answer; a state probe could not confirm it
  CHECK(asked.status.passkeyAsked);
  CHECK_FALSE(asked.status.qrOffered);
  CHECK(asked.status.attention == Attention::passkeyRequired);
  CHECK(asked.attentionChanged);
  CHECK_FALSE(asked.transition.has_value());  // still notAuthorized
  CHECK_FALSE(asked.status.lastErrorKind.has_value());

  SUBCASE("a state probe that still reads notAuthorized keeps it") {
    const auto probed = applyObservation(asked.status, reading(kT0 + 30s, "notAuthorized"), kRules);
    CHECK(probed.status.attention == Attention::passkeyRequired);
  }
  SUBCASE("the next QR makes it needs_scan again, without a confirmation") {
    const auto qr = applyObservation(asked.status, qrAnswer(kT0 + 2s, QrKind::qrCode), kRules);
    CHECK_FALSE(qr.confirmationNeeded);
    CHECK_FALSE(qr.status.passkeyAsked);
    CHECK(qr.status.attention == Attention::needsScan);
  }
  SUBCASE("authorized clears it") {
    const auto done = applyObservation(asked.status, reading(kT0 + 5s, "authorized"), kRules);
    CHECK_FALSE(done.status.passkeyAsked);
    CHECK(done.status.attention == Attention::none);
  }
}
