#include <doctest/doctest.h>

#include <chrono>

#include "fleet/attention_rules.hpp"

using namespace greenfleet::fleet;
using namespace greenfleet::base;
using namespace std::chrono_literals;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

// A healthy authorized instance registered an hour before kT0 and read just now.
InstanceStatus healthy() {
  InstanceStatus s = InstanceStatus::registered(kT0 - 1h);
  s.state = InstanceState::fromRaw("authorized");
  s.stateSince = kT0 - 30min;
  s.lastOkAt = kT0;
  s.lastReadingAt = kT0;
  s.lastCheckedAt = kT0;
  return s;
}

InstanceStatus inState(const char* raw) {
  InstanceStatus s = healthy();
  s.state = InstanceState::fromRaw(raw);
  return s;
}

Attention at(const InstanceStatus& s, SteadyTime now = kT0) {
  return deriveAttention(s, now, AttentionRules{});
}

void makeCredentialsRejected(InstanceStatus& s) {
  s.lastOkAt = kT0 - 20min;
  s.firstAuthFailureAt = kT0 - 15min;
}

void makeUnreachable(InstanceStatus& s) { s.consecutiveFailures = 5; }

}  // namespace

TEST_CASE("An authorized, freshly read instance needs no attention") {
  CHECK(at(healthy()) == Attention::none);
}

TEST_CASE("Each state maps to its attention") {
  CHECK(at(inState("blocked")) == Attention::blocked);
  CHECK(at(inState("notAuthorized")) == Attention::needsScan);
  CHECK(at(inState("suspended")) == Attention::suspended);
  CHECK(at(inState("yellowCard")) == Attention::suspended);
  InstanceStatus starting = inState("starting");
  starting.stateSince = kT0;
  CHECK(at(starting) == Attention::none);  // not yet stuck
  CHECK(at(inState("somethingNew")) == Attention::none);
}

TEST_CASE("A qrCode answer alone makes an instance need a scan") {
  InstanceStatus s = healthy();
  s.state = InstanceState();  // never read
  s.qrOffered = true;
  CHECK(at(s) == Attention::needsScan);
  CHECK(needsScan(s, kT0, AttentionRules{}));
}

TEST_CASE("Starting or sleepMode for longer than 10 minutes is stuck_starting") {
  for (const char* raw : {"starting", "sleepMode", "initializing"}) {
    InstanceStatus s = inState(raw);
    s.stateSince = kT0 - 9min;
    CHECK(at(s) == Attention::none);
    s.stateSince = kT0 - 11min;
    CHECK(at(s) == Attention::stuckStarting);
  }
}

TEST_CASE("Five consecutive outages make an instance unreachable, four do not") {
  InstanceStatus s = healthy();
  s.consecutiveFailures = 4;
  CHECK(at(s) == Attention::none);
  s.consecutiveFailures = 5;
  CHECK(at(s) == Attention::unreachable);
}

TEST_CASE("No answer within three intervals of the state makes an instance stale") {
  InstanceStatus s = healthy();  // authorized: interval 60 s
  CHECK(at(s, kT0 + 179s) == Attention::none);
  CHECK(at(s, kT0 + 181s) == Attention::stale);
  SUBCASE("the window follows the state's interval") {
    InstanceStatus b = inState("blocked");            // 300 s
    CHECK(at(b, kT0 + 14min) == Attention::blocked);  // blocked outranks stale anyway
    InstanceStatus n = inState("notAuthorized");
    n.lastReadingAt = kT0 - 100s;
    CHECK(at(n) == Attention::needsScan);
  }
  SUBCASE("a never-read instance is measured from its registration") {
    InstanceStatus fresh = InstanceStatus::registered(kT0);
    CHECK(at(fresh, kT0 + 170s) == Attention::none);
    CHECK(at(fresh, kT0 + 190s) == Attention::stale);
  }
}

TEST_CASE("A 401 on a new instance is not credentials_rejected until the grace period passes") {
  InstanceStatus s = InstanceStatus::registered(kT0);
  s.firstAuthFailureAt = kT0 + 10s;
  s.lastReadingAt = kT0 + 5min;  // 401s read as "initializing" keep it from going stale
  CHECK(at(s, kT0 + 9min) != Attention::credentialsRejected);
  CHECK(at(s, kT0 + 10min) == Attention::credentialsRejected);
}

TEST_CASE("The 401 grace period restarts at the last OK answer") {
  InstanceStatus s = healthy();
  s.lastOkAt = kT0;
  s.firstAuthFailureAt = kT0 + 1min;
  CHECK(at(s, kT0 + 9min) != Attention::credentialsRejected);
  CHECK(at(s, kT0 + 10min) == Attention::credentialsRejected);
  SUBCASE("a custom grace applies") {
    AttentionRules rules;
    rules.authGrace = 2min;
    CHECK(deriveAttention(s, kT0 + 2min, rules) == Attention::credentialsRejected);
  }
}

TEST_CASE("Attention precedence: the more severe condition wins in every pair") {
  // Each builder adds one condition; combining two must yield the more severe attention.
  struct Condition {
    Attention attention;
    void (*apply)(InstanceStatus&);
  };
  const Condition conditions[] = {
      {Attention::credentialsRejected, [](InstanceStatus& s) { makeCredentialsRejected(s); }},
      {Attention::blocked, [](InstanceStatus& s) { s.state = InstanceState::fromRaw("blocked"); }},
      {Attention::passkeyRequired,
       [](InstanceStatus& s) {
         s.state = InstanceState::fromRaw("notAuthorized");
         s.passkeyAsked = true;
       }},
      {Attention::needsScan,
       [](InstanceStatus& s) {
         if (s.state.kind() == StateKind::authorized)
           s.state = InstanceState::fromRaw("notAuthorized");
         s.qrOffered = true;
       }},
      {Attention::suspended,
       [](InstanceStatus& s) { s.state = InstanceState::fromRaw("suspended"); }},
      {Attention::stuckStarting,
       [](InstanceStatus& s) {
         s.state = InstanceState::fromRaw("starting");
         s.stateSince = kT0 - 11min;
       }},
      {Attention::unreachable, [](InstanceStatus& s) { makeUnreachable(s); }},
      {Attention::stale, [](InstanceStatus& s) { s.lastReadingAt = kT0 - 10min; }},
  };
  for (const auto& worse : conditions) {
    for (const auto& milder : conditions) {
      if (!isWorse(worse.attention, milder.attention)) continue;
      // State-setting conditions overwrite each other; apply the milder first.
      InstanceStatus s = healthy();
      milder.apply(s);
      worse.apply(s);
      CAPTURE(attentionName(worse.attention));
      CAPTURE(attentionName(milder.attention));
      CHECK(at(s) == worse.attention);
    }
  }
}

TEST_CASE("A notAuthorized instance whose QR answer asked for a passkey is passkey_required") {
  InstanceStatus s = inState("notAuthorized");
  s.passkeyAsked = true;
  CHECK(at(s) == Attention::passkeyRequired);
  CHECK(attentionName(Attention::passkeyRequired) == "passkey_required");
  CHECK(parseAttention("passkey_required") == Attention::passkeyRequired);
  CHECK_FALSE(needsScan(s, kT0, AttentionRules{}));
  s.passkeyAsked = false;
  CHECK(at(s) == Attention::needsScan);
}
