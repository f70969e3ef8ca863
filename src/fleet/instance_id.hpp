#pragma once
// InstanceId: Green API's idInstance, an int64 (10 digits today, up to 12+ from 2026-07).

#include <cstdint>

namespace greenfleet::fleet {

using InstanceId = std::int64_t;

}  // namespace greenfleet::fleet
