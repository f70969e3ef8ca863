#include <doctest/doctest.h>

#include <chrono>

#include "api/keyed_rate_limiter.hpp"

using namespace greenfleet;
using namespace std::chrono_literals;

TEST_CASE("KeyedRateLimiter allows a burst per key, then says how long to wait") {
  api::KeyedRateLimiter limiter(2.0, 3);
  const base::SteadyTime t0{std::chrono::hours(1)};
  CHECK_FALSE(limiter.take("a", t0).has_value());
  CHECK_FALSE(limiter.take("a", t0).has_value());
  CHECK_FALSE(limiter.take("a", t0).has_value());
  const auto wait = limiter.take("a", t0);
  REQUIRE(wait.has_value());
  CHECK(*wait == 500ms);
  CHECK_FALSE(limiter.take("b", t0).has_value());  // another key is not affected
  CHECK_FALSE(limiter.take("a", t0 + 500ms).has_value());
  CHECK(limiter.take("a", t0 + 500ms).has_value());
}

TEST_CASE("KeyedRateLimiter stays bounded: idle keys go first, a flood clears the table") {
  api::KeyedRateLimiter limiter(1.0, 2, /*max_keys=*/2);
  const base::SteadyTime t0{std::chrono::hours(1)};
  CHECK_FALSE(limiter.take("a", t0).has_value());
  CHECK_FALSE(limiter.take("a", t0).has_value());
  CHECK(limiter.take("a", t0).has_value());
  CHECK_FALSE(limiter.take("b", t0).has_value());
  // Table full at "c": nobody is idle yet, so it is cleared and "a" starts afresh.
  CHECK_FALSE(limiter.take("c", t0).has_value());
  CHECK_FALSE(limiter.take("a", t0).has_value());
}
