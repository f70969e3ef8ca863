#include <doctest/doctest.h>

#include <chrono>

#include "scheduler/partner_sync_pacer.hpp"

using namespace greenfleet::scheduler;
using namespace std::chrono_literals;
using greenfleet::base::Rng;

namespace {
const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));
PartnerSyncPacing pacing() {
  PartnerSyncPacing p;
  p.sync_interval = 15min;
  p.min_interval = 60s;
  p.jitter = 0.1;
  return p;
}
}  // namespace

TEST_CASE("PartnerSyncPacer syncs a new account at once, then every jittered interval") {
  PartnerSyncPacer pacer(pacing());
  Rng rng(3);
  pacer.add(1, kT0);
  CHECK(pacer.due(kT0) == std::vector<std::int64_t>{1});
  pacer.callStarted(1, kT0);
  CHECK(pacer.due(kT0).empty());
  pacer.succeeded(1, kT0 + 1s, rng);
  const auto next = *pacer.nextDue();
  CHECK(next >= kT0 + 1s + 810s);
  CHECK(next <= kT0 + 1s + 990s);
  CHECK(pacer.due(next - 1ms).empty());
  CHECK(pacer.due(next) == std::vector<std::int64_t>{1});
}

TEST_CASE("PartnerSyncPacer never allows two calls of one account within min_interval") {
  PartnerSyncPacer pacer(pacing());
  Rng rng(3);
  pacer.add(1, kT0);
  pacer.callStarted(1, kT0);
  CHECK(pacer.waitBeforeCall(1, kT0) == 60s);
  CHECK(pacer.waitBeforeCall(1, kT0 + 59s) == 1s);
  CHECK(pacer.waitBeforeCall(1, kT0 + 60s) == Duration::zero());
  // A failure right away still waits min_interval, whatever the backoff drew.
  pacer.failed(1, kT0 + 1s, rng);
  CHECK(*pacer.nextDue() >= kT0 + 60s);
  CHECK(pacer.waitBeforeCall(2, kT0) == Duration::zero());  // other accounts are independent
}

TEST_CASE(
    "PartnerSyncPacer backs off after failures and forgets the backoff on success or change") {
  PartnerSyncPacer pacer(pacing());
  Rng rng(5);
  pacer.add(1, kT0);
  SteadyTime now = kT0;
  for (int i = 0; i < 6; ++i) {
    pacer.callStarted(1, now);
    pacer.failed(1, now, rng);
    const auto next = *pacer.nextDue();
    CHECK(next >= now + 60s);
    CHECK(next <= now + 15min);  // capped at one sync interval
    now = next;
  }
  CHECK(pacer.failures(1) == 6);
  pacer.resetBackoff(1);
  CHECK(pacer.failures(1) == 0);
  pacer.failed(1, now, rng);
  pacer.succeeded(1, now, rng);
  CHECK(pacer.failures(1) == 0);
  pacer.remove(1);
  CHECK_FALSE(pacer.nextDue());
}
