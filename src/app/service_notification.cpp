#include "app/service_notification.hpp"

#include <systemd/sd-daemon.h>

#include <string>

#include "base/log.hpp"

namespace greenfleet::app {

namespace {
void notify(const std::string& message) {
  // 0: not under a service manager; < 0: the socket refused it. Neither stops the service.
  if (const int rc = sd_notify(0, message.c_str()); rc < 0) {
    base::Log("app").warn("event=service_notify_failed errno={}", -rc);
  }
}
}  // namespace

void notifyServiceReady(std::string_view status) {
  notify("READY=1\nSTATUS=" + std::string(status));
}

void notifyServiceStopping() { notify("STOPPING=1\nSTATUS=draining"); }

}  // namespace greenfleet::app
