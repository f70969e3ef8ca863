#pragma once
// FleetService: the composition root of `greenfleet serve` — opens and migrates the database,
// makes sure an admin key exists, wires repositories into the API and starts the HTTP server.
// stop() shuts down in order: HTTP first, then everything behind it. Not thread-safe: one
// owner (the serve command or a test) drives start/stop.

#include <cstddef>
#include <memory>
#include <string>

#include "base/clock.hpp"
#include "config/config.hpp"

namespace greenfleet::greenapi {
struct TransferOptions;
class UpstreamHostPolicy;
}  // namespace greenfleet::greenapi

namespace greenfleet::app {

class FleetService {
 public:
  FleetService(config::Config config, const base::Clock& clock);
  ~FleetService();
  FleetService(const FleetService&) = delete;
  FleetService& operator=(const FleetService&) = delete;

  void start();
  void stop();
  int port() const;
  std::string host() const;

 private:
  struct Parts;
  // start()'s steps, in order; each leaves its parts running.
  void openStore();
  void ensureAdminKey();
  void startStatusWriter();
  void startPoller(const greenapi::TransferOptions& transfer_options);
  std::size_t loadRegistry();
  void startEventHub();
  void startBackgroundWork();
  void buildUpstreamActions();
  void buildApiContext(const std::string& default_api_url,
                       const greenapi::UpstreamHostPolicy& allowed_hosts);
  void startServer();
  void startPruner();
  void stopPruner();
  config::Config config_;
  const base::Clock& clock_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace greenfleet::app
