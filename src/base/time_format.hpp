#pragma once
// RFC 3339 UTC formatting and parsing of wall times, the only time format the API speaks.

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.hpp"

namespace greenfleet::base {

std::string formatRfc3339(WallTime t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff]Z"; anything else is nullopt.
std::optional<WallTime> parseRfc3339(std::string_view text);
std::int64_t toUnixMillis(WallTime t);
WallTime fromUnixMillis(std::int64_t ms);

}  // namespace greenfleet::base
