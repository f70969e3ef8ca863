#pragma once
// The alert dispatcher as the service runs it: targets and policy from `alerts.*`, notices
// named from the poller's registry, every attempt an event (type "alert") and a metric.

#include <memory>

#include "alerts/alert_dispatcher.hpp"
#include "base/clock.hpp"
#include "config/config.hpp"

namespace greenfleet::api {
class FleetMetrics;
}
namespace greenfleet::scheduler {
class FleetPoller;
}
namespace greenfleet::store {
class StatusWriter;
}

namespace greenfleet::app {

// nullptr when `alerts.targets` is empty. Throws config::ConfigError on a bad `alerts.*` value.
// `poller` is read only once the dispatcher runs (it is made before the poller, which reports
// attention changes to it), so it may still be null here.
std::unique_ptr<alerts::AlertDispatcher> buildAlertDispatcher(
    const config::Config& config, const base::Clock& clock, store::StatusWriter& writer,
    api::FleetMetrics& metrics, const std::unique_ptr<scheduler::FleetPoller>& poller);

}  // namespace greenfleet::app
