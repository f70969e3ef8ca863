#pragma once
// The comma-separated lists of the config (`http.cors_origins`, `alerts.targets`,
// `alerts.reasons`, `upstream.allowed_hosts`): items split at commas, `blanks` trimmed from each,
// empty items left out. The views point into `text`.

#include <string_view>
#include <vector>

namespace greenfleet::base {

std::vector<std::string_view> splitCommaList(std::string_view text, std::string_view blanks = " ");

}  // namespace greenfleet::base
