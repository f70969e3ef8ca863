#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <vector>

#include "base/random.hpp"
#include "scheduler/token_bucket.hpp"

using namespace greenfleet::scheduler;
using namespace std::chrono_literals;
using greenfleet::base::Rng;
using greenfleet::base::uniformUnit;

namespace {

const SteadyTime kT0 = SteadyTime(std::chrono::hours(1));

// The largest number of times falling in any window [t, t + window) (half-open: "per second").
std::size_t maxInWindow(const std::vector<SteadyTime>& times, Duration window) {
  std::size_t best = 0, lo = 0;
  for (std::size_t hi = 0; hi < times.size(); ++hi) {
    while (times[hi] - times[lo] >= window) ++lo;
    best = std::max(best, hi - lo + 1);
  }
  return best;
}

}  // namespace

TEST_CASE("TokenBucket refuses a second request within its period") {
  TokenBucket b(0.8, 1);
  CHECK(b.period() == 1250ms);
  CHECK(b.consume(kT0));
  CHECK_FALSE(b.consume(kT0 + 1s));
  CHECK_FALSE(b.consume(kT0 + 1249ms));
  CHECK(b.readyAt() == kT0 + 1250ms);
  CHECK(b.consume(kT0 + 1250ms));
}

TEST_CASE("TokenBucket starts full and refills up to its burst only") {
  TokenBucket b(2.0, 3);
  CHECK(b.available(kT0) == doctest::Approx(3.0));
  CHECK(b.consume(kT0));
  CHECK(b.consume(kT0));
  CHECK(b.consume(kT0));
  CHECK_FALSE(b.consume(kT0));
  CHECK(b.available(kT0 + 500ms) == doctest::Approx(1.0));
  CHECK(b.available(kT0 + 1h) == doctest::Approx(3.0));
}

TEST_CASE("TokenBucket rejects a zero rate or burst") {
  CHECK_THROWS(TokenBucket(0.0, 1));
  CHECK_THROWS(TokenBucket(1.0, 0));
}

TEST_CASE(
    "Random attempts through TokenBucket never exceed the upstream limit in any sliding second") {
  struct Case {
    double rate;
    std::uint32_t burst;
    std::size_t ourLimit;  // what we promise per sliding second (upstream allows more)
  };
  // qr: Green API 3 rps, we promise 2; account methods: Green API 1 rps, we promise 1.
  for (const Case c : {Case{2.0, 1, 2}, Case{0.8, 1, 1}}) {
    CAPTURE(c.rate);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      Rng rng(seed);
      TokenBucket b(c.rate, c.burst);
      std::vector<SteadyTime> accepted;
      SteadyTime t = kT0;
      for (int i = 0; i < 5000; ++i) {
        // Bursty attempts: mostly clustered, sometimes long gaps.
        const double u = uniformUnit(rng);
        t += u < 0.7 ? Duration(static_cast<Duration::rep>(uniformUnit(rng) * 50e6))
                     : Duration(static_cast<Duration::rep>(uniformUnit(rng) * 3e9));
        if (b.consume(t)) accepted.push_back(t);
      }
      REQUIRE(accepted.size() > 100);
      CHECK(maxInWindow(accepted, 1s) <= c.ourLimit);
    }
  }
}

TEST_CASE("TokenBucket kept as its state alone continues exactly where the bucket was") {
  TokenBucket live(3.0, 2);
  const TokenBucket tmpl(3.0, 2);
  SteadyTime kept = tmpl.theoreticalArrival();
  SteadyTime now = kT0;
  for (int step = 0; step < 50; ++step) {
    now += std::chrono::milliseconds(37 * (step % 7));
    TokenBucket restored = tmpl.withState(kept);
    CHECK(restored.readyAt() == live.readyAt());
    CHECK(restored.consume(now) == live.consume(now));
    kept = restored.theoreticalArrival();
  }
}
