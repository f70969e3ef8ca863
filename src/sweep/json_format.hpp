#pragma once
// The JSON output of a sweep, one object on one line:
//   {"status":"WARNING","exitCode":1,"reason":"…","source":"fresh"|"cached"|"db",
//    "sweepId":7|null,"generatedAt":"RFC3339"|null,
//    "thresholds":{"warnNeedsScan":1,"critNeedsScan":null,"critBlocked":1},
//    "report":Report|null}
// `report` is null only for UNKNOWN. Pure function; thread-safe.

#include <string>

#include "sweep/sweep_outcome.hpp"

namespace greenfleet::sweep {

std::string formatJson(const SweepOutcome& outcome);

}  // namespace greenfleet::sweep
