#pragma once
// The Nagios plugin output of a sweep: ONE line, always shorter than kNagiosLineLimit bytes
// (Nagios 3 reads at most 4 KiB of plugin output), of the form
//   GREENFLEET WARNING - 3 need a QR scan, 0 blocked, 1000 instances; shop-a (needs_scan), … |
//   perfdata
// The instance list is cut to fit (", +N more"); perfdata is never cut. Perfdata follows
// 'label'=value[UOM];[warn];[crit];[min];[max]; warn/crit carry the configured N of `>= N`.
// Pure function; thread-safe.

#include <cstddef>
#include <string>

#include "sweep_cli/sweep_outcome.hpp"

namespace greenfleet::sweep_cli {

inline constexpr std::size_t kNagiosLineLimit = 4000;  // bytes, newline included; < 4096

std::string formatNagios(const SweepOutcome& outcome);

}  // namespace greenfleet::sweep_cli
