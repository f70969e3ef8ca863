#pragma once
// The JSON output of a sweep, one object on one line:
//   {"status":"WARNING","exitCode":1,"reason":"…","source":"fresh"|"cached"|"db",
//    "sweepId":7|null,"generatedAt":"RFC3339"|null,
//    "thresholds":{"warnNeedsScan":1,"critNeedsScan":null,"critBlocked":1},
//    "report":Report|null}
// `report` is null only for UNKNOWN. Pure function; thread-safe.

#include <string>

#include "sweep_cli/sweep_outcome.hpp"

namespace greenfleet::sweep_cli {

std::string formatJson(const SweepOutcome& outcome);

}  // namespace greenfleet::sweep_cli
