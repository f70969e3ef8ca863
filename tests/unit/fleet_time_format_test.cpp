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

TEST_CASE("formatRfc3339 pads every field") {
  const auto at = [](int y, unsigned mo, unsigned d, int h, int mi, int s, int ms) {
    using namespace std::chrono;
    return WallTime(sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s) +
                    milliseconds(ms));
  };
  CHECK(formatRfc3339(at(2026, 2, 3, 4, 5, 6, 7)) == "2026-02-03T04:05:06.007Z");
  CHECK(formatRfc3339(at(1970, 1, 1, 0, 0, 0, 0)) == "1970-01-01T00:00:00.000Z");
  CHECK(formatRfc3339(at(2262, 4, 11, 23, 47, 16, 854)) == "2262-04-11T23:47:16.854Z");
  CHECK(formatRfc3339(at(1700, 7, 8, 9, 10, 11, 120)) == "1700-07-08T09:10:11.120Z");
  for (const std::int64_t ms : {0LL, 1767225600123LL, 1796000000999LL, 9000000000999LL}) {
    const auto text = formatRfc3339(fromUnixMillis(ms));
    const auto back = parseRfc3339(text);
    REQUIRE_MESSAGE(back.has_value(), text);
    CHECK(toUnixMillis(*back) == ms);
  }
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
