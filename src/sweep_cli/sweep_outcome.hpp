#pragma once
// SweepOutcome: everything one `greenfleet sweep` run learned, ready for a formatter — the
// verdict, and the report it was judged on (absent when the check itself failed, UNKNOWN).
// Value type.

#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.hpp"
#include "sweep/report.hpp"
#include "sweep_cli/verdict.hpp"

namespace greenfleet::sweep_cli {

struct SweepOutcome {
  Verdict verdict;
  Thresholds thresholds;
  std::optional<sweep::Report> report;
  std::string source;                    // "fresh" (a server sweep), "cached" (GET /report), "db"
  std::optional<std::int64_t> sweep_id;  // fresh only
  std::optional<base::WallTime> generated_at;  // when the report's data was read
};

}  // namespace greenfleet::sweep_cli
