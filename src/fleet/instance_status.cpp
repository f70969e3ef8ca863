#include "fleet/instance_status.hpp"

namespace greenfleet::fleet {

std::string_view readingSourceName(ReadingSource source) {
  switch (source) {
    case ReadingSource::poll:
      return "poll";
    case ReadingSource::webhook:
      return "webhook";
    case ReadingSource::action:
      return "action";
  }
  return "poll";
}

InstanceStatus InstanceStatus::registered(SteadyTime registeredAt) {
  InstanceStatus s;
  s.registeredAt = registeredAt;
  s.stateSince = registeredAt;
  return s;
}

}  // namespace greenfleet::fleet
