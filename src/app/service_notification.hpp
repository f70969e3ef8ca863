#pragma once
// The service manager's readiness protocol (systemd Type=notify, through libsystemd's
// sd_notify). Each call is a no-op when the process was not started with NOTIFY_SOCKET, so the
// same binary runs unchanged from a shell, a test or a unit file.

#include <string_view>

namespace greenfleet::app {

// Sent once the database is migrated and every listener accepts connections.
void notifyServiceReady(std::string_view status);
// Sent when a termination signal arrived and the drain begins.
void notifyServiceStopping();

}  // namespace greenfleet::app
