#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "fleet/probe_policy.hpp"

using namespace greenfleet::fleet;
using namespace greenfleet::base;
using namespace std::chrono_literals;

TEST_CASE("Probe intervals follow the state") {
  const ProbePolicy p;
  CHECK(p.intervalFor(StateKind::authorized) == 60s);
  CHECK(p.intervalFor(StateKind::notAuthorized) == 30s);
  CHECK(p.intervalFor(StateKind::starting) == 15s);
  CHECK(p.intervalFor(StateKind::sleepMode) == 15s);
  CHECK(p.intervalFor(StateKind::initializing) == 15s);
  CHECK(p.intervalFor(StateKind::blocked) == 300s);
  CHECK(p.intervalFor(StateKind::suspended) == 300s);
  CHECK(p.intervalFor(StateKind::yellowCard) == 300s);
  CHECK(p.intervalFor(StateKind::unknown) == Duration::zero());
  CHECK(p.intervalFor(StateKind::other) == 60s);
}

TEST_CASE("Jittered intervals stay within plus or minus 10 percent and use the whole range") {
  const ProbePolicy p;
  Rng rng(42);
  Duration lo = Duration::max(), hi = Duration::min();
  for (int i = 0; i < 10000; ++i) {
    const Duration d = p.jitteredInterval(StateKind::authorized, rng);
    CHECK(d >= 54s);
    CHECK(d <= 66s);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  CHECK(lo < 54500ms);
  CHECK(hi > 65500ms);
}

TEST_CASE("Jitter is reproducible from the seed") {
  const ProbePolicy p;
  Rng a(7), b(7);
  for (int i = 0; i < 100; ++i) {
    CHECK(p.jitteredInterval(StateKind::notAuthorized, a) ==
          p.jitteredInterval(StateKind::notAuthorized, b));
  }
}

TEST_CASE("First probes of 1000 instances spread roughly uniformly over one interval") {
  const ProbePolicy p;
  std::vector<int> per_second(60, 0);
  for (InstanceId id = 1101000000; id < 1101001000; ++id) {
    const Duration off = p.firstProbeOffset(id, StateKind::authorized);
    REQUIRE(off >= Duration::zero());
    REQUIRE(off < 60s);
    ++per_second[static_cast<std::size_t>(off / 1s)];
  }
  // ~16.7 per second on average; a burst would put many in one second.
  CHECK(*std::max_element(per_second.begin(), per_second.end()) <= 40);
  CHECK(std::count(per_second.begin(), per_second.end(), 0) <= 1);
  // Deterministic per id.
  CHECK(p.firstProbeOffset(1101000001, StateKind::authorized) ==
        p.firstProbeOffset(1101000001, StateKind::authorized));
}

TEST_CASE("Never-read instances loaded at start spread over the startup window, not all at once") {
  const ProbePolicy p;
  Duration hi = Duration::zero();
  for (InstanceId id = 1; id <= 500; ++id)
    hi = std::max(hi, p.firstProbeOffset(id, StateKind::unknown));
  CHECK(hi > 50s);
  CHECK(hi < 60s);
}
