#pragma once
// Verdict: a Report judged against Thresholds, in the Nagios plugin convention — 0 OK,
// 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check itself failed: server unreachable, bad key,
// timeout, malformed answer). Every threshold compares `count >= N`; an unset threshold (nullopt)
// never fires. Value types; evaluate() is pure.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sweep/report.hpp"

namespace greenfleet::sweep_cli {

enum class CheckStatus { ok = 0, warning = 1, critical = 2, unknown = 3 };
std::string_view checkStatusName(CheckStatus status);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"
inline int exitCode(CheckStatus status) { return static_cast<int>(status); }

struct Thresholds {
  // WARNING when needs_scan >= N (default: any instance needing a scan).
  std::optional<std::int64_t> warn_needs_scan = 1;
  // CRITICAL when needs_scan >= N (default: off).
  std::optional<std::int64_t> crit_needs_scan;
  // CRITICAL when blocked >= N, and (separately) when credentials_rejected >= N (default: any).
  std::optional<std::int64_t> crit_blocked = 1;
};

struct Verdict {
  CheckStatus status = CheckStatus::unknown;
  std::string reason;  // every threshold that fired, most severe first; or why the check failed
};

Verdict evaluate(const sweep::Report& report, const Thresholds& thresholds);
inline Verdict unknownVerdict(std::string why) { return {CheckStatus::unknown, std::move(why)}; }

}  // namespace greenfleet::sweep_cli
