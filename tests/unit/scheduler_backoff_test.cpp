#include <doctest/doctest.h>

#include <chrono>

#include "scheduler/backoff.hpp"
#include "scheduler/host_circuit_breaker.hpp"
#include "scheduler/sliding_counter.hpp"

using namespace greenfleet::scheduler;
using namespace std::chrono_literals;
using greenfleet::base::Rng;

namespace {
const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));
}

TEST_CASE("Backoff ceiling doubles from 2 s per failure and stops at 5 minutes") {
  Backoff b;
  Rng rng(1);
  CHECK(b.nextCeiling() == 2s);
  const Duration expected[] = {2s, 4s, 8s, 16s, 32s, 64s, 128s, 256s, 300s, 300s, 300s};
  for (const Duration ceiling : expected) {
    CHECK(b.nextCeiling() == ceiling);
    const Duration d = b.onFailure(kT0, rng);
    CHECK(d >= Duration::zero());
    CHECK(d <= ceiling);
    CHECK(b.readyAt() == kT0 + d);
  }
  for (int i = 0; i < 100; ++i) b.onFailure(kT0, rng);  // no overflow however many failures
  CHECK(b.nextCeiling() == 300s);
}

TEST_CASE("Backoff delays are fully jittered over the whole range") {
  Rng rng(3);
  Duration lo = Duration::max(), hi = Duration::zero();
  for (int i = 0; i < 2000; ++i) {
    Backoff b;
    for (int k = 0; k < 3; ++k) b.onFailure(kT0, rng);  // ceiling 8 s on the fourth
    const Duration d = b.onFailure(kT0, rng);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  CHECK(lo < 500ms);
  CHECK(hi > 7500ms);
  CHECK(hi <= 16s);
}

TEST_CASE("Backoff resets on success") {
  Backoff b;
  Rng rng(5);
  for (int i = 0; i < 6; ++i) b.onFailure(kT0, rng);
  CHECK(b.failures() == 6);
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.nextCeiling() == 2s);
  CHECK_FALSE(b.isBackingOff(kT0));
}

TEST_CASE("SlidingCounter forgets events older than its span") {
  SlidingCounter c(1s, 60);
  c.add(kT0, 5);
  c.add(kT0 + 30s, 2);
  CHECK(c.sum(kT0 + 30s) == 7);
  CHECK(c.sum(kT0 + 61s) == 2);
  CHECK(c.sum(kT0 + 2h) == 0);
}

TEST_CASE(
    "The host circuit breaker opens after many outages in a short window and closes after the "
    "pause") {
  CircuitBreakerConfig cfg;  // 20 failures, >= 50 %, within 10 s; pause 15 s
  HostCircuitBreaker b(cfg);
  bool tripped = false;
  for (int i = 0; i < 19; ++i) tripped = tripped || b.record(kT0 + i * 100ms, true);
  CHECK_FALSE(tripped);
  CHECK_FALSE(b.isOpen(kT0 + 2s));
  CHECK(b.record(kT0 + 2s, true));
  CHECK(b.isOpen(kT0 + 2s));
  CHECK(b.isOpen(kT0 + 16s));
  CHECK_FALSE(b.isOpen(kT0 + 17s));
  CHECK(b.trips() == 1);
}

TEST_CASE("The host circuit breaker stays closed when failures are a small share of a busy host") {
  HostCircuitBreaker b(CircuitBreakerConfig{});
  bool tripped = false;
  for (int i = 0; i < 1000; ++i) tripped = tripped || b.record(kT0 + i * 5ms, i % 10 == 0);
  CHECK_FALSE(tripped);  // 100 failures, but only 10 %
}

TEST_CASE("The host circuit breaker ignores failures spread over more than its window") {
  HostCircuitBreaker b(CircuitBreakerConfig{});
  bool tripped = false;
  for (int i = 0; i < 100; ++i) tripped = tripped || b.record(kT0 + i * 1s, true);
  CHECK_FALSE(tripped);
}

TEST_CASE("Backoff kept as failures and readyAt continues exactly where the backoff was") {
  Backoff live(2s, 5min);
  const Backoff tmpl(2s, 5min);
  Rng live_rng(11);
  Rng kept_rng(11);
  std::uint32_t failures = 0;
  SteadyTime ready_at{};
  SteadyTime now = kT0;
  for (int step = 0; step < 20; ++step) {
    now += 1s;
    Backoff restored = tmpl.withState(failures, ready_at);
    CHECK(restored.nextCeiling() == live.nextCeiling());
    if (step == 12) {
      restored.reset();
      live.reset();
    } else {
      CHECK(restored.onFailure(now, kept_rng) == live.onFailure(now, live_rng));
    }
    failures = restored.failures();
    ready_at = restored.readyAt();
    CHECK(ready_at == live.readyAt());
  }
}
