#pragma once
// The human output of a sweep: a verdict line, a summary of counts, and a table of the problem
// instances (most severe first, at most `max_rows` rows, then "… and N more"). Pure function;
// thread-safe.

#include <cstddef>
#include <string>

#include "base/clock.hpp"
#include "sweep_cli/sweep_outcome.hpp"

namespace greenfleet::sweep_cli {

std::string formatText(const SweepOutcome& outcome, std::size_t max_rows, base::WallTime now);

}  // namespace greenfleet::sweep_cli
