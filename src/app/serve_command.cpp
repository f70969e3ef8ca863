#include <fmt/format.h>

#include <iostream>

#include "app/command_table.hpp"
#include "app/fleet_service.hpp"
#include "app/service_config.hpp"
#include "app/service_notification.hpp"
#include "app/termination_signal.hpp"
#include "base/log.hpp"

namespace greenfleet::app {

int runServe(const CommandArgs& args) {
  Flags flags("serve",
              "Run greenfleet: the admin API, the rate-aware poller and the status store. "
              "Settings come from the config file, GREENFLEET_<KEY> environment variables and "
              "these flags, in rising order of precedence.");
  addConfigFlags(flags);
  flags.option("host", "ADDR", "listen address (config http.host)")
      .option("port", "PORT", "listen port, 0 = any free port (config http.port)")
      .option("log-level", "LEVEL", "log level (config log.level)");
  if (!flags.parse(args)) return 0;
  std::map<std::string, std::string> overrides;
  if (const auto v = flags.get("host")) overrides["http.host"] = *v;
  if (const auto v = flags.get("port")) {
    flags.getInt("port", 0, 65535);
    overrides["http.port"] = *v;
  }
  if (const auto v = flags.get("log-level")) overrides["log.level"] = *v;
  const auto config = loadConfig(flags, overrides);
  setupLogging(config);

  blockTerminationSignals();
  base::SystemClock clock;
  FleetService service(config, clock);
  service.start();
  notifyServiceReady(fmt::format("serving on {}:{}", service.host(), service.port()));
  const int sig = waitForTerminationSignal();
  base::Log("app").info("event=stopping signal={}", sig);
  notifyServiceStopping();
  service.stop();
  base::Log("app").info("event=stopped");
  return 0;
}

}  // namespace greenfleet::app
