#include <doctest/doctest.h>

#include "base/clock.hpp"
#include "base/time_format.hpp"

using namespace greenfleet::base;

TEST_CASE("formatRfc3339 prints UTC with milliseconds and parses back") {
  const WallTime t = fromUnixMillis(1767225600123);
  CHECK(formatRfc3339(t) == "2026-01-01T00:00:00.123Z");
  const auto parsed = parseRfc3339("2026-01-01T00:00:00.123Z");
  REQUIRE(parsed.has_value());
  CHECK(toUnixMillis(*parsed) == 1767225600123);
}

TEST_CASE("parseRfc3339 rejects offsets, junk and impossible dates") {
  CHECK_FALSE(parseRfc3339("2026-01-01T00:00:00+01:00").has_value());
  CHECK_FALSE(parseRfc3339("yesterday").has_value());
  CHECK_FALSE(parseRfc3339("2026-02-30T00:00:00Z").has_value());
  CHECK(parseRfc3339("2026-01-01T00:00:00Z").has_value());
}

TEST_CASE("ManualClock moves only when advanced") {
  ManualClock clock;
  const auto s0 = clock.steadyNow();
  const auto w0 = clock.wallNow();
  CHECK(clock.steadyNow() == s0);
  clock.advance(std::chrono::seconds(5));
  CHECK(clock.steadyNow() - s0 == std::chrono::seconds(5));
  CHECK(clock.wallNow() - w0 == std::chrono::seconds(5));
}
