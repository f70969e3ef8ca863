#pragma once
// Translation between the scheduler's in-memory status (steady times, domain types) and the
// stored rows of instance_status/state_events (wall-clock milliseconds, strings). Lives in the
// composition root because neither side may know the other. Pure functions.

#include <vector>

#include "base/time_anchor.hpp"
#include "fleet/instance_status.hpp"
#include "scheduler/probe_scheduler.hpp"
#include "store/instance_repository.hpp"
#include "store/status_update.hpp"

namespace greenfleet::app {

store::StatusUpdate toStoredUpdate(const scheduler::ProbeUpdate& update,
                                   const base::TimeAnchor& anchor);
// The notable events an update carries besides its state transition: attention changes and
// scan sessions started or ended.
std::vector<store::EventRow> notableEvents(const scheduler::ProbeUpdate& update,
                                           const base::TimeAnchor& anchor);
// A stored row back into a status the scheduler resumes from.
fleet::InstanceStatus fromStoredStatus(const store::StoredStatus& stored,
                                       base::SteadyTime registered_at,
                                       const base::TimeAnchor& anchor);
// NULL in the database = never read.
std::optional<std::string> storedState(const fleet::InstanceState& state);

}  // namespace greenfleet::app
