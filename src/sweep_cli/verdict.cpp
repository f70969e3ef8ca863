#include "sweep_cli/verdict.hpp"

#include <array>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace greenfleet::sweep_cli {

namespace {
bool reaches(std::int64_t count, const std::optional<std::int64_t>& threshold) {
  return threshold && count >= *threshold;
}
}  // namespace

std::string_view checkStatusName(CheckStatus status) {
  static constexpr std::array<std::string_view, 4> kNames{"OK", "WARNING", "CRITICAL", "UNKNOWN"};
  return kNames.at(static_cast<std::size_t>(status));
}

Verdict evaluate(const sweep::Report& report, const Thresholds& t) {
  const auto needs_scan = report.attentionCount("needs_scan");
  const auto blocked = report.attentionCount("blocked");
  const auto rejected = report.attentionCount("credentials_rejected");
  std::vector<std::string> critical;
  std::vector<std::string> warning;
  if (reaches(rejected, t.crit_blocked)) {
    critical.push_back(
        fmt::format("{} with rejected credentials (crit >= {})", rejected, *t.crit_blocked));
  }
  if (reaches(blocked, t.crit_blocked)) {
    critical.push_back(fmt::format("{} blocked (crit >= {})", blocked, *t.crit_blocked));
  }
  if (reaches(needs_scan, t.crit_needs_scan)) {
    critical.push_back(
        fmt::format("{} need a QR scan (crit >= {})", needs_scan, *t.crit_needs_scan));
  } else if (reaches(needs_scan, t.warn_needs_scan)) {
    warning.push_back(
        fmt::format("{} need a QR scan (warn >= {})", needs_scan, *t.warn_needs_scan));
  }
  Verdict v;
  if (!critical.empty()) {
    v.status = CheckStatus::critical;
  } else if (!warning.empty()) {
    v.status = CheckStatus::warning;
  } else {
    v.status = CheckStatus::ok;
    v.reason = fmt::format("no threshold reached ({} of {} instances need attention)",
                           report.attention.size(), report.total);
    return v;
  }
  critical.insert(critical.end(), warning.begin(), warning.end());
  v.reason = fmt::format("{}", fmt::join(critical, "; "));
  return v;
}

}  // namespace greenfleet::sweep_cli
