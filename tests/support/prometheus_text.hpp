#pragma once
// Reading /metrics in tests: one sample of the Prometheus text exposition, and `promtool check
// metrics` (Debian package prometheus, installed by scripts/test) over a whole exposition.
// Free functions; thread-safe.

#include <optional>
#include <string>

namespace greenfleet::testing {

inline constexpr const char* kPromtool = "/usr/bin/promtool";

// The value of the sample line `series` ("name{labels}" exactly as exposed); nullopt if absent.
std::optional<double> sample(const std::string& text, const std::string& series);
// Runs `promtool check metrics` on `text`; returns its exit code, its output in `output`.
int promtoolCheck(const std::string& text, std::string& output);

}  // namespace greenfleet::testing
